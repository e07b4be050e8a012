"""A saved HammingIndex against a pickled one: load time, memory, and identical answers.

The parent process builds ``--n-codes`` random codes of ``--n-bits`` bits (seed ``--seed``), two
indexes over them (``method="scan"`` and ``method="mih"``) and their exact answers to
``--n-query`` random queries (top-``--k`` and a radius search). It writes each index twice: with
``HammingIndex.save`` (a folder of ``.npy`` files; MIH's tables included) and with ``pickle``
(the packed codes only; MIH's tables are rebuilt at the first search). Then, for each index and
each way of reading it, a **fresh process** loads it, searches the same queries and reports:

* the load time and the resident memory after loading (``VmRSS``);
* the time of the first top-k search of all queries (for a pickled MIH index: the table
  rebuild plus the search), then of their radius search;
* the peak resident memory (``VmHWM``) and the private memory after the search (``RssAnon``:
  pages of a memory-mapped file are shared page cache, not private copies);
* whether the answers equal the parent's, distances and ids, top-k and radius.

The files were just written, so they are in the page cache: a cold load from disk reads more.
Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_index_storage.py              # 10M codes
    python benchmarks/bench_index_storage.py --n-codes 100000 --n-query 50  # a quick check
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from skmetacmh.index import HammingIndex  # noqa: E402

CHUNK = 1_000_000
WAYS = ("pickle", "load", "load mmap='r'")


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-codes", type=int, default=10_000_000)
    parser.add_argument("--n-bits", type=int, default=64)
    parser.add_argument("--n-query", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--radius", type=int, default=None, help="default: n_bits // 8")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", default=None, help="where to write (default: a temp folder)")
    parser.add_argument("--json", default=None, help="also write the rows here")
    parser.add_argument(
        "--child", nargs=3, metavar=("DIR", "METHOD", "WAY"), help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def _memory_mb() -> dict:
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                fields[name] = int(value.split()[0]) / 1024  # kB -> MiB
    return fields


def _answers(index, queries, k, radius):
    return (*index.search(queries, k), *index.range_search(queries, radius))


def _child(folder: Path, method: str, way: str) -> None:
    """Load one index one way, search, print one JSON line."""
    if way == "baseline":  # the process before any index: what the other rows add to
        print(json.dumps({"baseline": _memory_mb()}))
        return
    queries = np.load(folder / "queries.npy")
    expected = np.load(folder / f"expected_{method}.npz")
    params = json.loads((folder / "params.json").read_text())
    start = time.perf_counter()
    if way == "pickle":
        with open(folder / f"{method}.pkl", "rb") as fh:
            index = pickle.load(fh)
    else:
        index = HammingIndex.load(folder / method, mmap_mode="r" if "mmap" in way else None)
    load_s = time.perf_counter() - start
    after_load = _memory_mb()
    start = time.perf_counter()
    got = index.search(queries, params["k"])
    search_s = time.perf_counter() - start
    start = time.perf_counter()
    got = (*got, *index.range_search(queries, params["radius"]))
    range_s = time.perf_counter() - start
    after_search = _memory_mb()
    same = all(np.array_equal(a, expected[f"a{i}"]) for i, a in enumerate(got))
    print(
        json.dumps(
            {
                "method": method,
                "way": way,
                "active_method": index.active_method,
                "load_s": load_s,
                "rss_after_load_mb": after_load["VmRSS"],
                "first_search_s": search_s,
                "range_search_s": range_s,
                "peak_rss_mb": after_search["VmHWM"],
                "anon_after_search_mb": after_search["RssAnon"],
                "identical": bool(same),
            }
        )
    )


def _build(args, folder: Path) -> dict:
    rng = np.random.default_rng(args.seed)
    radius = args.n_bits // 8 if args.radius is None else args.radius
    indexes = {m: HammingIndex(args.n_bits, method=m) for m in ("scan", "mih")}
    start = time.perf_counter()
    for lo in range(0, args.n_codes, CHUNK):
        chunk = rng.integers(
            0, 2, size=(min(CHUNK, args.n_codes - lo), args.n_bits), dtype=np.uint8
        )
        for index in indexes.values():
            index.add(chunk)
    queries = rng.integers(0, 2, size=(args.n_query, args.n_bits), dtype=np.uint8)
    np.save(folder / "queries.npy", queries)
    (folder / "params.json").write_text(json.dumps({"k": args.k, "radius": radius}))
    info = {"add_s": time.perf_counter() - start, "radius": radius}
    answers = {}
    for method, index in indexes.items():
        start = time.perf_counter()
        answers[method] = _answers(index, queries, args.k, radius)  # MIH: builds the tables
        info[f"{method}_in_memory_first_search_s"] = time.perf_counter() - start
        np.savez(
            folder / f"expected_{method}.npz", **{f"a{i}": a for i, a in enumerate(answers[method])}
        )
        start = time.perf_counter()
        index.save(folder / method)
        info[f"{method}_save_s"] = time.perf_counter() - start
        start = time.perf_counter()
        with open(folder / f"{method}.pkl", "wb") as fh:
            pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
        info[f"{method}_pickle_s"] = time.perf_counter() - start
        info[f"{method}_saved_mb"] = (
            sum(p.stat().st_size for p in (folder / method).iterdir()) / 2**20
        )
        info[f"{method}_pickle_mb"] = (folder / f"{method}.pkl").stat().st_size / 2**20
    info["mih_equals_scan"] = all(
        np.array_equal(a, b) for a, b in zip(answers["scan"], answers["mih"])
    )
    return info


def main(argv=None) -> None:
    args = _parse_args(argv)
    if args.child:
        _child(Path(args.child[0]), args.child[1], args.child[2])
        return
    folder = Path(args.dir or tempfile.mkdtemp(prefix="bench_index_storage_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        info = _build(args, folder)
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(folder), "-", "baseline"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        info["baseline"] = json.loads(done.stdout.strip().splitlines()[-1])["baseline"]
        rows = []
        for method in ("scan", "mih"):
            for way in WAYS:
                done = subprocess.run(
                    [sys.executable, __file__, "--child", str(folder), method, way],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(
        f"{args.n_codes:,} random {args.n_bits}-bit codes, seed {args.seed}; {args.n_query} "
        f"queries, top-{args.k} and radius {info['radius']}; add {info['add_s']:.1f} s"
    )
    for method in ("scan", "mih"):
        print(
            f"{method}: saved folder {info[f'{method}_saved_mb']:.0f} MiB "
            f"(save {info[f'{method}_save_s']:.2f} s), pickle {info[f'{method}_pickle_mb']:.0f} "
            f"MiB (dump {info[f'{method}_pickle_s']:.2f} s); in-memory first search "
            f"{info[f'{method}_in_memory_first_search_s']:.2f} s"
        )
    print(f"MIH answers equal the scan's in memory: {info['mih_equals_scan']}")
    base = info["baseline"]
    print(
        f"a fresh process with skmetacmh imported, before loading: RSS {base['VmRSS']:.0f} MiB, "
        f"private {base['RssAnon']:.0f} MiB"
    )
    header = (
        f"{'index':<6}{'read by':<16}{'load s':>9}{'RSS after load':>16}{'first top-k s':>15}"
        f"{'range s':>9}"
        f"{'peak RSS':>10}{'private after':>15}  identical"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['method']:<6}{row['way']:<16}{row['load_s']:>9.3f}"
            f"{row['rss_after_load_mb']:>12.0f} MiB{row['first_search_s']:>15.2f}"
            f"{row['range_search_s']:>9.2f}"
            f"{row['peak_rss_mb']:>6.0f} MiB{row['anon_after_search_mb']:>11.0f} MiB  "
            f"{row['identical']}"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"args": vars(args), "info": info, "rows": rows}, indent=1)
        )


if __name__ == "__main__":
    main()
