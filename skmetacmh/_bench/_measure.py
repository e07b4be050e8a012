"""Peak memory of one call, as the focused benchmarks measure it."""

from __future__ import annotations

import tracemalloc

__all__ = ["peak_traced_bytes"]


def peak_traced_bytes(function, *args, **kwargs) -> tuple[int, object]:
    """Peak bytes ``tracemalloc`` sees allocated during ``function(*args, **kwargs)``.

    Memory allocated before the call (its inputs) is excluded, and so is what was already
    traced when the call started. numpy reports its buffers to ``tracemalloc``, so array
    allocations count; memory held by BLAS or torch outside Python's allocator does not.

    Returns
    -------
    peak : int
        Peak traced bytes above the level at the start of the call.
    result : object
        What the call returned.
    """
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = function(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not already:
            tracemalloc.stop()
    return peak - base, result
