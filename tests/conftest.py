"""Test-session settings.

pytest-xdist runs one worker per core; if each worker's torch, BLAS and OpenMP also started a
thread per core, the workers would fight over the cores and small fits would slow down by an
order of magnitude. One thread per worker keeps the suite fast and timings stable. This must
run before torch or numpy's BLAS start their thread pools, hence at conftest import.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
