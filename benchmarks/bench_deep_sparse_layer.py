"""Per-batch cost of the first text layer on a sparse block: dense-gradient vs row-sparse.

The text block of ``bench_deep_scale.py`` (TF-IDF bag of words, ``--vocabulary`` columns,
``--words`` non-zeros per item). For mini-batches of ``--batch-size`` rows and a first layer of
``--width`` units, times forward, forward + backward, and the optimiser step of

- ``dense-grad``: :class:`~skmetacmh.metacmh._network.SparseInputLinear` (sparse matmul forward,
  dense ``width x vocabulary`` weight gradient) with ``torch.optim.Adam``, the layer a sparse
  fit used before the row-sparse layer;
- ``row-sparse``: :class:`~skmetacmh.metacmh._network.RowSparseLinear` (row-sparse gradient) with
  :class:`~skmetacmh.metacmh._optim.RowSparseAdam` (lazy update of the touched rows).

One thread; the median of ``--repeats`` batches, in milliseconds; the ratio dense/row-sparse.

Example
-------
python benchmarks/bench_deep_sparse_layer.py --vocabulary 20000 --words 200 --width 512
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_deep_scale import sparse_text  # noqa: E402

from skmetacmh.metacmh._features import SparseRows  # noqa: E402
from skmetacmh.metacmh._network import RowSparseLinear, SparseInputLinear  # noqa: E402
from skmetacmh.metacmh._optim import RowSparseAdam  # noqa: E402


def time_layer(layer, optimizer, batches) -> dict:
    forward, backward, step = [], [], []
    for x in batches:
        start = time.perf_counter()
        out = layer(x)
        loss = out.square().sum()
        forward.append(time.perf_counter() - start)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        backward.append(time.perf_counter() - start)
        start = time.perf_counter()
        optimizer.step()
        step.append(time.perf_counter() - start)
    return {
        "forward_ms": 1000 * float(np.median(forward)),
        "forward_backward_ms": 1000 * float(np.median(backward)),
        "step_ms": 1000 * float(np.median(step)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocabulary", type=int, default=20_000)
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    n = args.batch_size * args.repeats
    Y = np.eye(24, dtype=np.float32)[rng.integers(0, 24, n)]
    rows = SparseRows(sparse_text(Y, args.vocabulary, args.words, rng), torch.device("cpu"))
    batches = [
        rows.rows(torch.arange(i, i + args.batch_size)) for i in range(0, n, args.batch_size)
    ]
    touched = np.median([len(torch.unique(b.col_indices())) for b in batches])
    results = {}
    torch.manual_seed(args.seed)
    for name, layer_cls, optimizer_cls in (
        ("dense-grad", SparseInputLinear, torch.optim.Adam),
        ("row-sparse", RowSparseLinear, RowSparseAdam),
    ):
        layer = layer_cls(args.vocabulary, args.width)
        if layer_cls is RowSparseLinear:
            torch.nn.init.uniform_(layer.weight, -0.01, 0.01)
            torch.nn.init.zeros_(layer.bias)
        results[name] = time_layer(layer, optimizer_cls(layer.parameters(), lr=1e-3), batches)
    ratio = {
        key: results["dense-grad"][key] / results["row-sparse"][key]
        for key in results["row-sparse"]
    }
    print(
        json.dumps(
            {
                "vocabulary": args.vocabulary,
                "words": args.words,
                "width": args.width,
                "batch_size": args.batch_size,
                "median_touched_rows": float(touched),
                **results,
                "dense_over_row_sparse": ratio,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
