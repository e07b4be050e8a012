"""The benchmark command from a source checkout: ``python -m benchmarks.run`` = ``skmetacmh-bench``.

The code lives in :mod:`skmetacmh._bench`; this script only keeps the source-tree spelling.
"""

import sys

from skmetacmh._bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
