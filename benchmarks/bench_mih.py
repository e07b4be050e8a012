"""Exact multi-index hashing (MIH) against faiss IndexBinaryFlat and the package's scan, one thread.

Sections (each on the same machine, in the same run, so the ratios compare like with like):

* ``random``: ``--n-db`` random 64-bit codes and ``--n-query`` random queries, top-k for each
  ``--k``. Times (best of ``--repeats`` interleaved runs) ``faiss.IndexBinaryFlat.search``
  (raw), ``HammingIndex(method="scan")`` and ``HammingIndex(method="mih")``; checks that MIH
  returns exactly the scan's distances and ids (tie order included) and faiss the same
  distances. Ratios above 1 mean MIH is faster.
* ``fitted``: the same on codes of a fitted hasher: ``CCAITQHasher`` (64 bits) fitted on 5,000
  items of ``make_cross_modal_classification`` (100 classes, imbalance factor 10); the
  database is the text codes of ``--n-db`` items resampled from a 200,000-item pool with fresh
  feature noise (sigma 0.5), encoded in chunks; the queries are image codes of held-out items
  (cross-modal search). Clustered codes: many items share a code, and distances tie heavily.
* ``crossover``: scan and MIH on the first ``n`` codes for growing ``n``, random codes of each
  ``--crossover-bits`` length and the fitted codes; the smallest ``n`` from which MIH is faster
  is the crossover that ``method="auto"`` uses.
* ``auto-grid`` (``--auto-grid``, alone): scan and MIH over a grid of ``n``
  (``--grid-sizes``), ``n_bits`` (``--grid-bits``) and ``k`` (``--grid-k``), on random codes and
  on the fitted codes of each length; prints per point the measured ``scan / MIH`` time ratio,
  what ``method="auto"`` picks there, and how much slower that is than the better of the two
  (CPU seconds, best of ``--repeats`` interleaved runs, ``--crossover-queries`` queries).
  ``--from-json`` re-reads the measurements of an earlier ``--json`` and re-evaluates the rule.
* ``distributed``: a ``DistributedHammingIndex`` on a ``LocalCluster`` of 2 single-thread
  workers (in-process) over the random codes, built from a dask array generated on the workers;
  query throughput against the single in-memory MIH index, with identical results.

Memory: the index size in bytes per code (the packed codes, 8 bytes at 64 bits, plus MIH's
tables).

Usage::

    python benchmarks/bench_mih.py                                  # 10M codes, ~10 min
    python benchmarks/bench_mih.py --n-db 1000000 --sections random crossover
    python benchmarks/bench_mih.py --auto-grid --json grid.json      # the "auto" rule, ~20 min
    python benchmarks/bench_mih.py --auto-grid --from-json grid.json # re-evaluate the rule
"""

from __future__ import annotations

import os

# One thread everywhere; must be set before numpy (and its BLAS) is imported.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from skmetacmh._search import _mih, kernels_available, pack_codes, resolve_engine  # noqa: E402
from skmetacmh.index import HammingIndex  # noqa: E402

SECTIONS = ("random", "distributed", "fitted", "crossover", "substrings")
CHUNK = 1_000_000


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-db", type=int, default=10_000_000, help="database codes")
    parser.add_argument("--n-query", type=int, default=1_000, help="queries")
    parser.add_argument("--k", type=int, nargs="+", default=[10, 100], help="neighbours")
    parser.add_argument("--seed", type=int, default=0, help="random seed of codes and data")
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    parser.add_argument(
        "--crossover-sizes",
        type=int,
        nargs="+",
        default=[10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000],
    )
    parser.add_argument("--crossover-bits", type=int, nargs="*", default=[32, 64, 128, 256])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument("--crossover-queries", type=int, default=200)
    parser.add_argument(
        "--substring-counts", type=int, nargs="+", default=[3, 4, 5], help="m to compare"
    )
    parser.add_argument(
        "--fitted-bits", type=int, nargs="+", default=[64], help="code lengths of the fitted codes"
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--auto-grid", action="store_true", help="measure the 'auto' rule only")
    parser.add_argument(
        "--grid-sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000, 300_000, 1_000_000]
    )
    parser.add_argument("--grid-bits", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--grid-k", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--from-json", help="--auto-grid: re-evaluate saved measurements")
    return parser.parse_args(argv)


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


# ---------------------------------------------------------------------------- data
def _random_block(block: int, rows: int, n_bits: int, seed: int) -> np.ndarray:
    """Block ``block`` of the random codes; the same on the client and on a dask worker."""
    return np.random.default_rng([seed, block]).integers(0, 2, size=(rows, n_bits), dtype=np.uint8)


def _block_rows(n: int):
    return [min(CHUNK, n - start) for start in range(0, n, CHUNK)]


def _random_codes(n: int, n_bits: int, seed: int):
    for block, rows in enumerate(_block_rows(n)):
        yield _random_block(block, rows, n_bits, seed)


def _fitted_codes(n: int, n_query: int, seed: int, n_bits: int = 64):
    """A fitted CCA-ITQ hasher's text codes of ``n`` items, and image codes of the queries."""
    from skmetacmh import CCAITQHasher
    from skmetacmh.datasets import make_cross_modal_classification

    n_image = max(128, n_bits)
    X, y = make_cross_modal_classification(
        n_samples=200_000 + 5_000 + n_query,
        n_classes=100,
        n_image_features=n_image,
        n_text_features=max(64, n_bits),
        imbalance_factor=10,
        random_state=seed,
    )
    pool, train, held_out = X[:200_000], slice(200_000, 205_000), X[205_000:]
    hasher = CCAITQHasher(n_bits=n_bits, n_image_features=n_image, random_state=seed)
    hasher.fit(X[train], y[train])
    queries = hasher.encode(held_out[:, :n_image], modality="image")
    rng = np.random.default_rng(seed + 1)

    def chunks():
        for rows in _block_rows(n):
            text = pool[rng.integers(0, pool.shape[0], rows), n_image:]
            text = text + 0.5 * rng.standard_normal(text.shape)
            yield hasher.encode(text, modality="text")

    return chunks(), queries


# ---------------------------------------------------------------------------- sections
def _compare(name, chunks, queries, ks, n_bits=64, repeats=3):
    """faiss raw vs scan vs MIH over the same codes; returns (rows, the MIH index)."""
    import faiss

    faiss.omp_set_num_threads(1)
    scan = HammingIndex(n_bits, method="scan")
    mih = HammingIndex(n_bits, method="mih")
    flat = faiss.IndexBinaryFlat(n_bits)
    for chunk in chunks:
        scan.add(chunk)
        mih.add(chunk)
        flat.add(np.packbits(chunk, axis=1))
    n = scan.ntotal
    _, build_s = _timed(lambda: mih.search(queries[:1], 1))  # builds the tables
    n_distinct = np.unique(scan.packed_codes, axis=0).shape[0]
    memory = {
        "codes_bytes_per_code": scan.packed_codes.nbytes / n,
        "mih_tables_bytes_per_code": mih._mih.nbytes / n,
        "mih_index_bytes_per_code": (mih.packed_codes.nbytes + mih._mih.nbytes) / n,
        "n_substrings": int(mih._mih._tables.m),
        "mih_build_s": build_s,
        "distinct_codes": int(n_distinct),
    }
    print(
        f"[{name}] n={n:,} distinct codes={n_distinct:,}  MIH: m={memory['n_substrings']}, "
        f"build {build_s:.1f} s, {memory['mih_index_bytes_per_code']:.1f} bytes/code "
        f"(codes {memory['codes_bytes_per_code']:.0f} + tables "
        f"{memory['mih_tables_bytes_per_code']:.1f})"
    )
    packed_q = np.packbits(queries, axis=1)
    rows = []
    for k in ks:
        # Best of `repeats` interleaved runs: every method sees the same machine load.
        t_faiss = t_scan = t_mih = float("inf")
        for _ in range(repeats):
            (fd, _), t = _timed(lambda k=k, f=flat: f.search(packed_q, k))
            t_faiss = min(t_faiss, t)
            expected, t = _timed(lambda k=k, s=scan: s.search(queries, k))
            t_scan = min(t_scan, t)
            got, t = _timed(lambda k=k: mih.search(queries, k))
            t_mih = min(t_mih, t)
        row = {
            "data": name,
            "n": n,
            "k": k,
            "n_query": len(queries),
            "faiss_ms": 1e3 * t_faiss / len(queries),
            "scan_ms": 1e3 * t_scan / len(queries),
            "mih_ms": 1e3 * t_mih / len(queries),
            "mih_speedup_vs_faiss": t_faiss / t_mih,
            "mih_speedup_vs_scan": t_scan / t_mih,
            "mih_identical_to_scan": _same(got, expected),
            "faiss_distances_identical": bool(np.array_equal(fd, expected[0])),
            "kth_distance_median": float(np.median(expected[0][:, -1])),
        }
        rows.append(row)
        print(
            f"[{name}] k={k:<4} faiss {row['faiss_ms']:.3f} ms  scan {row['scan_ms']:.3f} ms  "
            f"MIH {row['mih_ms']:.3f} ms/query  => MIH {row['mih_speedup_vs_faiss']:.1f}x faiss, "
            f"{row['mih_speedup_vs_scan']:.1f}x scan; identical={row['mih_identical_to_scan']} "
            f"(faiss distances {row['faiss_distances_identical']}); median k-th distance "
            f"{row['kth_distance_median']:.0f}"
        )
    del scan, flat
    gc.collect()
    return {"rows": rows, "memory": memory}, mih


def _crossover(name, packed, queries, sizes, k_list, n_bits):
    """Scan vs MIH on the first n codes; the smallest n from which MIH wins, per k."""
    rows, crossover, engine = [], {}, resolve_engine("auto", n_bits)
    for n in [s for s in sizes if s <= packed.shape[0]]:
        db = packed[:n]
        tables = _mih.MultiIndex(n_bits)
        tables.search(queries[:1], db, 1, engine=engine)  # build
        for k in k_list:
            expected, t_scan = _timed(lambda k=k, db=db: engine.knn(queries, db, n_bits, k))
            got, t_mih = _timed(
                lambda k=k, db=db, t=tables: t.search(queries, db, k, engine=engine)
            )
            assert _same(got, expected), f"MIH differs from the scan ({name}, n={n}, k={k})"
            rows.append(
                {"data": name, "n_bits": n_bits, "n": n, "k": k, "scan_over_mih": t_scan / t_mih}
            )
            if t_mih < t_scan and k not in crossover:
                crossover[k] = n
            elif t_mih >= t_scan:
                crossover.pop(k, None)  # the crossover is the n from which MIH keeps winning
        del tables
        gc.collect()
    ratios = "  ".join(
        f"n={r['n']:,} k={r['k']}: {r['scan_over_mih']:.2f}" for r in rows if r["k"] == k_list[0]
    )
    print(f"[crossover {name}, {n_bits} bits] scan_time / mih_time  {ratios}")
    print(f"[crossover {name}, {n_bits} bits] MIH faster from n = {crossover} (per k)")
    return {"rows": rows, "crossover_n": {str(k): v for k, v in crossover.items()}}


def _cpu_timed(fn):
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def _grid_point(db, queries, k, n_bits, engine, tables, repeats):
    """Best CPU seconds of the scan and of MIH (interleaved), and that both agree."""
    t_scan = t_mih = float("inf")
    for _ in range(repeats):
        expected, t = _cpu_timed(lambda: engine.knn(queries, db, n_bits, k))
        t_scan = min(t_scan, t)
        got, t = _cpu_timed(lambda: tables.search(queries, db, k, engine=engine))
        t_mih = min(t_mih, t)
    if not _same(got, expected):
        raise SystemExit(f"MISMATCH: MIH differs from the scan (n={len(db)}, k={k})")
    return t_scan, t_mih


def _measure_grid(args):
    """Scan and MIH times over (data, n_bits, n, k); one row per point."""
    rows, engine_q = [], np.random.default_rng(args.seed)
    n_max = max(args.grid_sizes)
    for n_bits in args.grid_bits:
        engine = resolve_engine("auto", n_bits)
        random_db = np.concatenate([pack_codes(c) for c in _random_codes(n_max, n_bits, 7)])
        random_q = pack_codes(engine_q.integers(0, 2, size=(args.crossover_queries, n_bits)))
        chunks, fitted_q = _fitted_codes(n_max, args.crossover_queries, args.seed, n_bits)
        fitted_db = np.concatenate([pack_codes(c) for c in chunks])
        for data, packed, queries in (
            ("random", random_db, random_q),
            ("fitted", fitted_db, pack_codes(fitted_q)),
        ):
            for n in args.grid_sizes:
                db = packed[:n]
                spread = _mih.code_spread(db, n_bits)
                tables = _mih.MultiIndex(n_bits)
                tables.search(queries[:1], db, 1, engine=engine)  # build the tables
                for k in args.grid_k:
                    t_scan, t_mih = _grid_point(
                        db, queries, k, n_bits, engine, tables, args.repeats
                    )
                    rows.append(
                        {
                            "data": data, "n_bits": n_bits, "n": n, "k": k,
                            "n_query": len(queries), "scan_s": t_scan, "mih_s": t_mih,
                            "spread": spread,
                        }
                    )  # fmt: skip
                    print(
                        f"[grid] {data:6s} {n_bits:3d} bits n={n:>9,} k={k:<5} scan "
                        f"{1e3 * t_scan / len(queries):7.3f} ms  MIH "
                        f"{1e3 * t_mih / len(queries):7.3f} ms/query  scan/MIH "
                        f"{t_scan / t_mih:6.2f}",
                        flush=True,
                    )
                del tables
                gc.collect()
        del random_db, fitted_db
        gc.collect()
    return rows


def _report_grid(rows):
    """Per point: scan/MIH, what "auto" picks, auto's time over the better method's."""
    worst = 1.0
    for data in dict.fromkeys(r["data"] for r in rows):
        for n_bits in dict.fromkeys(r["n_bits"] for r in rows):
            part = [r for r in rows if r["data"] == data and r["n_bits"] == n_bits]
            if not part:
                continue
            sizes = sorted({r["n"] for r in part})
            print(f"\n{data} codes, {n_bits} bits: scan/MIH time, [auto's pick], auto/best")
            print("k     " + "".join(f"{n:>20,}" for n in sizes))
            for k in sorted({r["k"] for r in part}):
                cells = []
                for n in sizes:
                    r = next(r for r in part if r["n"] == n and r["k"] == k)
                    pick = _mih.auto_method(n, n_bits, k, r["spread"])
                    t_auto = r["mih_s"] if pick == "mih" else r["scan_s"]
                    over = t_auto / min(r["scan_s"], r["mih_s"])
                    worst = max(worst, over)
                    flag = "!" if over > 1.1 else " "
                    cells.append(f"{r['scan_s'] / r['mih_s']:6.2f} [{pick:4s}] {over:4.2f}{flag}")
                print(f"{k:<6}" + "".join(f"{c:>20}" for c in cells))
    print(f"\nworst auto/best over the grid: {worst:.2f} (goal <= 1.10; '!' marks a miss)")
    return worst


def _crossover_table(rows):
    """AUTO_MIN_N as measured: per kind, code length and k, where scan / MIH crosses 1.

    The smallest grid n from which MIH wins at every larger grid n, moved down to where the
    ratio, interpolated linearly in log n from the grid n below, reaches 1 (two significant
    digits); None when MIH does not win at the largest n.
    """
    table = {}
    for data, kind in (("fitted", "clustered"), ("random", "uniform")):
        table[kind] = []
        for n_bits in _mih.AUTO_BITS:
            line = []
            for k in _mih.AUTO_K:
                points = sorted(
                    (r["n"], r["scan_s"] / r["mih_s"])
                    for r in rows
                    if r["data"] == data and r["n_bits"] == n_bits and r["k"] == k
                )
                first = None
                for i in range(len(points) - 1, -1, -1):
                    if points[i][1] <= 1:
                        break
                    first = i
                if first is None or not points:
                    line.append(None)
                    continue
                n_win, r_win = points[first]
                if first == 0:
                    line.append(n_win)
                    continue
                n_lose, r_lose = points[first - 1]
                share = np.log(1 / r_lose) / np.log(r_win / r_lose)
                n_cross = float(np.exp(np.log(n_lose) + share * np.log(n_win / n_lose)))
                line.append(int(float(f"{n_cross:.2g}")))
            table[kind].append(tuple(line))
    print("\nAUTO_MIN_N as measured (rows: AUTO_BITS, columns: AUTO_K):")
    for kind, lines in table.items():
        print(f"    {kind!r}: (")
        for line in lines:
            print(f"        {line!r},")
        print("    ),")
    return table


def _add_spreads(rows, args):
    """code_spread of each point's codes, for measurements saved without it (same seeds)."""
    for n_bits in dict.fromkeys(r["n_bits"] for r in rows if "spread" not in r):
        n_max = max(r["n"] for r in rows)
        chunks, _ = _fitted_codes(n_max, args.crossover_queries, args.seed, n_bits)
        codes = {
            "random": np.concatenate([pack_codes(c) for c in _random_codes(n_max, n_bits, 7)]),
            "fitted": np.concatenate([pack_codes(c) for c in chunks]),
        }
        for r in rows:
            if r["n_bits"] == n_bits:
                r["spread"] = _mih.code_spread(codes[r["data"]][: r["n"]], n_bits)


def _auto_grid(args):
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as fh:
            rows = json.load(fh)["auto_grid"]
        if any("spread" not in r for r in rows):
            _add_spreads(rows, args)
            with open(args.from_json, "w", encoding="utf-8") as fh:
                json.dump({"args": vars(args), "auto_grid": rows}, fh, indent=2)
    else:
        rows = _measure_grid(args)
    worst = _report_grid(rows)
    _crossover_table(rows)
    if args.json and not args.from_json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"args": vars(args), "auto_grid": rows}, fh, indent=2)
    return {"auto_grid": rows, "worst_auto_over_best": worst}


def _substrings(packed, queries, counts, ks, n_bits=64):
    """MIH time for each substring count m on the same codes (the paper's m = n_bits / log2 n
    against the 16-bit cap of the default)."""
    rows, engine = [], resolve_engine("auto", n_bits)
    for m in counts:
        tables = _mih.MultiIndex(n_bits, m)
        _, build_s = _timed(lambda t=tables: t.search(queries[:1], packed, 1, engine=engine))
        for k in ks:
            _, t_mih = _timed(lambda k=k, t=tables: t.search(queries, packed, k, engine=engine))
            rows.append({"m": m, "k": k, "mih_ms": 1e3 * t_mih / len(queries), "build_s": build_s})
            print(f"[substrings] m={m} k={k:<4} MIH {rows[-1]['mih_ms']:.3f} ms/query")
        del tables
        gc.collect()
    return rows


def _distributed(n, queries, ks, seed, in_memory):
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    from skmetacmh.distributed import DistributedHammingIndex

    blocks = [
        da.from_delayed(
            dask.delayed(_random_block)(b, rows, 64, seed), shape=(rows, 64), dtype=np.uint8
        )
        for b, rows in enumerate(_block_rows(n))
    ]
    codes = da.concatenate(blocks)
    out = {"rows": []}
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    with Client(cluster) as client:
        index = DistributedHammingIndex(64, client=client, method="mih")
        _, build_s = _timed(lambda: index.add(codes))
        _, warm_s = _timed(lambda: index.search(queries[:1], 1))  # builds each shard's tables
        out["build_s"], out["first_search_s"] = build_s, warm_s
        out["shard_sizes"] = list(index.shard_sizes.values())
        print(
            f"[distributed] 2 workers, shards {out['shard_sizes']}, add {build_s:.1f} s, "
            f"first search (tables) {warm_s:.1f} s"
        )
        for k in ks:
            got, t_dist = _timed(lambda k=k: index.search(queries, k))
            expected, t_one = _timed(lambda k=k: in_memory.search(queries, k))
            row = {
                "k": k,
                "distributed_qps": len(queries) / t_dist,
                "in_memory_qps": len(queries) / t_one,
                "throughput_ratio": t_one / t_dist,
                "identical": _same(got, expected),
            }
            out["rows"].append(row)
            print(
                f"[distributed] k={k:<4} {row['distributed_qps']:.0f} queries/s vs one in-memory "
                f"MIH index {row['in_memory_qps']:.0f} queries/s (x{row['throughput_ratio']:.2f});"
                f" identical={row['identical']}"
            )
    cluster.close()
    return out


def main(argv=None):
    args = _parse_args(argv)
    if args.auto_grid:
        return _auto_grid(args)
    rng = np.random.default_rng(args.seed)
    summary = {"args": vars(args), "kernel": kernels_available()}
    random_queries = rng.integers(0, 2, size=(args.n_query, 64), dtype=np.uint8)
    mih = None
    if "random" in args.sections or "distributed" in args.sections:
        chunks = _random_codes(args.n_db, 64, args.seed)
        summary["random"], mih = _compare(
            "random", chunks, random_queries, args.k, repeats=args.repeats
        )
    if "distributed" in args.sections:
        summary["distributed"] = _distributed(
            args.n_db, random_queries, args.k, args.seed, in_memory=mih
        )
    if "crossover" in args.sections:
        summary["crossover"] = []
        for n_bits in args.crossover_bits:
            if n_bits == 64 and mih is not None:
                packed = mih.packed_codes
            else:
                n = min(args.n_db, max(args.crossover_sizes))
                if n_bits > 64:  # longer codes: up to 1M (memory)
                    n = min(n, 1_000_000)
                packed = np.concatenate([pack_codes(c) for c in _random_codes(n, n_bits, 7)])
            queries = pack_codes(rng.integers(0, 2, size=(args.crossover_queries, n_bits)))
            summary["crossover"].append(
                _crossover("random", packed, queries, args.crossover_sizes, args.k, n_bits)
            )
            del packed
    if "substrings" in args.sections:
        packed = mih.packed_codes if mih is not None else None
        if packed is None:
            packed = np.concatenate(
                [pack_codes(c) for c in _random_codes(args.n_db, 64, args.seed)]
            )
        summary["substrings"] = _substrings(
            packed, pack_codes(random_queries), args.substring_counts, args.k
        )
        del packed
    mih = None
    gc.collect()
    for n_bits in args.fitted_bits if "fitted" in args.sections else []:
        chunks, queries = _fitted_codes(args.n_db, args.n_query, args.seed, n_bits)
        name = f"fitted CCA-ITQ {n_bits} bits"
        summary[f"fitted_{n_bits}"], fitted = _compare(
            name, chunks, queries, args.k, n_bits, repeats=args.repeats
        )
        if "crossover" in args.sections:
            summary["crossover"].append(
                _crossover(
                    name,
                    fitted.packed_codes,
                    pack_codes(queries[: args.crossover_queries]),
                    args.crossover_sizes,
                    args.k,
                    n_bits,
                )
            )
        del fitted
        gc.collect()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2)
    mismatch = [
        row
        for part in ["random", *(f"fitted_{b}" for b in args.fitted_bits)]
        for row in summary.get(part, {}).get("rows", [])
        if not row["mih_identical_to_scan"]
    ] + [row for row in summary.get("distributed", {}).get("rows", []) if not row["identical"]]
    if mismatch:
        raise SystemExit(f"MISMATCH: MIH differs from the scan: {mismatch}")
    return summary


if __name__ == "__main__":
    main()
