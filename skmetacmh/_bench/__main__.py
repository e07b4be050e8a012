"""``python -m skmetacmh._bench``: the same as the ``skmetacmh-bench`` command."""

import sys

from .cli import main

sys.exit(main())
