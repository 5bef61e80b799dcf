"""Issue 4's benchmark: a streaming flat-file pipeline against the same work in polars.

    python -m bench.bench_pipeline --rows 1000000 10000000 30000000

Pipeline (a real .dtsx, built with the builder API, saved and loaded back): Flat File Source ->
Derived Column (``total = qty * price``, ``region = UPPER(region)``) -> Conditional Split
(``total > 1000`` -> Big; the rest -> default) -> Flat File Destination (Big) and Parquet
Destination (default). The peer is the same work hand-written in polars, lazy and streaming
(``scan_csv`` -> ``with_columns`` -> two sinks collected together).

Each run is a separate process (so peak RSS is that run's own); runs are interleaved with the peer
and repeated (median). Outputs are checked equal (row counts and sums) before times are reported.
Data is generated once, deterministically, under ``bench/data/`` (never committed).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def generate(rows: int) -> Path:
    """sales_<rows>.csv: id, region, product, qty, price, order_date (chunked, vectorised)."""
    import numpy as np
    import polars as pl

    path = DATA / f"sales_{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    rng = np.random.default_rng(1)
    regions = np.array(["east", "west", "north", "south", "central"])
    products = np.array([f"product-{i:03d}" for i in range(200)])
    chunk = 2_000_000
    with tmp.open("wb") as fh:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            frame = pl.DataFrame(
                {
                    "id": np.arange(start + 1, start + n + 1, dtype=np.int32),
                    "region": regions[rng.integers(0, len(regions), n)],
                    "product": products[rng.integers(0, len(products), n)],
                    "qty": rng.integers(1, 50, n).astype(np.int32),
                    "price": np.round(rng.uniform(0.5, 100, n), 2),
                    "order_date": (np.datetime64("2020-01-01") + rng.integers(0, 1500, n)).astype(
                        "datetime64[D]"
                    ),
                }
            )
            frame.write_csv(fh, include_header=start == 0)
    tmp.rename(path)
    return path


def build_package(csv: Path, out: Path) -> Path:
    from dataflow.package import builder as b

    p = b.PackageBuilder("BenchPipeline", seed=4)
    p.flat_file_connection(
        "Sales",
        str(csv),
        columns=[
            ("id", "DT_I4"),
            ("region", "DT_STR", 10),
            ("product", "DT_STR", 20),
            ("qty", "DT_I4"),
            ("price", "DT_R8"),
            ("order_date", "DT_DBDATE"),
        ],
        header=True,
        delimiter=",",
        row_delimiter="\n",
        header_row_delimiter="\n",
    )
    p.flat_file_connection(
        "Big", str(out / "big.csv"), header=True, delimiter=",", row_delimiter="\n"
    )
    df = p.data_flow("Pipeline")
    src = df.flat_file_source("Read", "Sales")
    dc = df.derived_column("Compute", src)
    dc.derived_column("total", "qty * price", "DT_R8")
    dc.replace("region", "UPPER(region)")
    split = df.conditional_split("Split", dc)
    split.case("Big", "total > 1000")
    df.flat_file_destination("Write big", (split, "Big"), "Big")
    df.destination(
        "Write rest",
        "Dataflow.ParquetDestination",
        (split, "Conditional Split Default Output"),
        properties={"FileName": str(out / "rest.parquet")},
    )
    dtsx = out / "bench_pipeline.dtsx"
    p.save(dtsx)
    return dtsx


def run_dataflow(csv: Path, out: Path) -> dict[str, float]:
    from dataflow import load_package
    from dataflow.pipeline import run_data_flow

    pkg = load_package(build_package(csv, out))
    t0 = time.perf_counter()
    stats = run_data_flow(pkg, "Pipeline")
    return {
        "seconds": time.perf_counter() - t0,
        "big": stats.rows[("Split", "Big")],
        "rest": stats.rows[("Split", "Conditional Split Default Output")],
    }


def run_polars(csv: Path, out: Path) -> dict[str, float]:
    import polars as pl

    t0 = time.perf_counter()
    lf = pl.scan_csv(csv, schema_overrides={"order_date": pl.Date}).with_columns(
        (pl.col("qty") * pl.col("price")).alias("total"), pl.col("region").str.to_uppercase()
    )
    big = lf.filter(pl.col("total") > 1000).sink_csv(out / "big_polars.csv", lazy=True)
    rest = lf.filter(~(pl.col("total") > 1000)).sink_parquet(out / "rest_polars.parquet", lazy=True)
    pl.collect_all([big, rest])
    seconds = time.perf_counter() - t0
    n_big = pl.scan_csv(out / "big_polars.csv").select(pl.len()).collect().item()
    n_rest = pl.scan_parquet(out / "rest_polars.parquet").select(pl.len()).collect().item()
    return {"seconds": seconds, "big": n_big, "rest": n_rest}


def child(engine: str, rows: int) -> None:
    csv = generate(rows)
    out = DATA / f"out_{engine}_{rows}"
    out.mkdir(parents=True, exist_ok=True)
    res = run_dataflow(csv, out) if engine == "dataflow" else run_polars(csv, out)
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(res))


def measure(engine: str, rows: int) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_pipeline", "--child", engine, "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=["dataflow", "polars"])
    args = ap.parse_args()
    if args.child:
        child(args.child, args.rows[0])
        return
    print(f"{'rows':>11} {'engine':>9} {'median s':>9} {'peak MB':>8} {'ratio':>6}")
    for rows in args.rows:
        generate(rows)
        runs: dict[str, list[dict[str, float]]] = {"dataflow": [], "polars": []}
        for _ in range(args.repeat):  # interleaved with the peer
            for engine, results in runs.items():
                results.append(measure(engine, rows))
        ours, peer = runs["dataflow"], runs["polars"]
        assert ours[0]["big"] == peer[0]["big"] and ours[0]["rest"] == peer[0]["rest"], (
            ours[0],
            peer[0],
        )
        med = {e: statistics.median(r["seconds"] for r in results) for e, results in runs.items()}
        for engine, results in runs.items():
            peak = max(r["peak_rss_mb"] for r in results)
            ratio = med[engine] / med["polars"]
            print(f"{rows:>11,} {engine:>9} {med[engine]:>9.2f} {peak:>8.0f} {ratio:>6.2f}")


if __name__ == "__main__":
    main()
