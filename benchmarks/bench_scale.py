"""Scale-out benchmark: encode and index 1,000,000 items at 64 bits, out of core with Dask.

The features are generated lazily by ``dask.array`` block by block (they would take
``n_items * n_features * 8`` bytes in memory at once), hashed by ``transform_dask`` on the local
threaded scheduler, and the image codes go into a :class:`~skmetacmh.index.HammingIndex`.
The peak resident memory of the process is reported, which is what "fits on one machine" means.

Run::

    python benchmarks/bench_scale.py                       # MetaCMH, 1,000,000 items, 64 bits
    python benchmarks/bench_scale.py --hasher CCA-ITQ --n-items 200000

``--hasher`` takes the benchmark's hasher names (``skmetacmh-bench --list``).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from skmetacmh._bench._registry import HASHERS, make_hasher, resolve_hasher
from skmetacmh.datasets import make_cross_modal_classification
from skmetacmh.distributed import transform_dask
from skmetacmh.index import HammingIndex


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB -> GiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hasher", default="MetaCMH", choices=list(HASHERS))
    parser.add_argument("--n-items", type=int, default=1_000_000)
    parser.add_argument("--n-bits", type=int, default=64)
    parser.add_argument("--n-image-features", type=int, default=128)
    parser.add_argument("--n-text-features", type=int, default=256)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--n-train", type=int, default=5_000)
    args = parser.parse_args()

    import dask
    import dask.array as da

    n_img, n_txt = args.n_image_features, args.n_text_features
    X_train, y = make_cross_modal_classification(
        n_samples=args.n_train, n_image_features=n_img, n_text_features=n_txt, random_state=0
    )
    hasher = make_hasher(resolve_hasher(args.hasher), {}, args.n_bits, n_img, 0)
    t0 = time.perf_counter()
    hasher.fit(X_train, y)
    print(f"fit {args.hasher} on {args.n_train} items: {time.perf_counter() - t0:.1f} s")
    rss_before = peak_rss_gib()

    # Lazy features: each block is drawn when a worker needs it, never the whole matrix.
    X = da.random.RandomState(0).standard_normal(
        (args.n_items, n_img + n_txt), chunks=(args.chunk, n_img + n_txt)
    )
    print(f"features would take {X.nbytes / 2**30:.1f} GiB in memory at once")
    index = HammingIndex(args.n_bits)
    t0 = time.perf_counter()
    codes = transform_dask(hasher, X)
    with dask.config.set(scheduler="threads", num_workers=2):
        for block in codes.blocks:  # one block of rows at a time
            index.add(np.asarray(block.compute())[:, : args.n_bits])
    elapsed = time.perf_counter() - t0
    print(
        f"encoded and indexed {index.ntotal:,} items at {args.n_bits} bits in {elapsed:.1f} s "
        f"({index.ntotal / elapsed:,.0f} items/s)"
    )
    queries = np.asarray(codes[:1000, : args.n_bits].compute())
    t0 = time.perf_counter()
    index.search(queries, 100)
    print(f"top-100 search for 1,000 queries: {time.perf_counter() - t0:.2f} s")
    print(f"peak resident memory: {peak_rss_gib():.2f} GiB (after fit: {rss_before:.2f} GiB)")


if __name__ == "__main__":
    main()
