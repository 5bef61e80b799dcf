"""Benchmark: Flat File Source -> Flat File Destination through ``run_data_flow`` vs polars.

    python -m bench.bench_flatfile --rows 1000000

Generates a deterministic CSV (id int, region string, amount decimal(12,2), day date) in a
scratch directory (``--data-dir``, default a temporary directory; never committed), then times, each
in its own process so that peak RSS is the run's own:

* ``dataflow``: a package built with the builder API (Flat File Source reading and typing the four
  columns, Flat File Destination writing them back), run with ``run_data_flow``;
* ``polars``: ``pl.scan_csv(..., schema=...)`` with the same types, ``.sink_csv(...)``;
* ``dataflow-read`` / ``polars-read``: reading only (the source alone; ``pl.read_csv``).

Prints seconds, rows/s, peak RSS (VmHWM) and the ratios dataflow / polars (target <= 1.25).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

REGIONS = ["EAST", "WEST", "NORTH", "SOUTH", "CENTRAL"]


def generate(path: Path, rows: int) -> None:
    """A deterministic CSV with a header row (written once per row count, then reused)."""
    if path.exists():
        return
    i = pl.col("id").cast(pl.Int64)
    df = pl.select(id=pl.int_range(0, rows, dtype=pl.Int32)).with_columns(
        region=pl.lit(pl.Series(REGIONS)).gather(pl.col("id") % len(REGIONS)),
        # cents as integers, then text: exact decimals with two digits
        amount=((i * 7919) % 1_000_000).cast(pl.Decimal(14, 0)).cast(pl.Decimal(14, 2)) / 100,
        day=pl.date(2020, 1, 1) + pl.duration(days=i % 3650),
    )
    df = df.with_columns(amount=pl.col("amount").cast(pl.Decimal(12, 2)))
    tmp = path.with_suffix(".tmp")
    df.write_csv(tmp, line_terminator="\r\n")
    tmp.rename(path)


def _rss_mb() -> float:
    """Peak RSS of this process in MiB. VmHWM, not ru_maxrss: on Linux ru_maxrss carries the
    parent's peak across fork and exec (the parent held the generated data)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def run_dataflow(src: Path, dst: Path, *, read_only: bool = False) -> dict[str, Any]:
    import dataflow.pipeline.components.flatfile_destination
    import dataflow.pipeline.components.flatfile_source  # noqa: F401 - registers the components
    from dataflow.package import builder as b
    from dataflow.pipeline import run_data_flow

    p = b.PackageBuilder("BenchFlatFile", seed=1)
    p.flat_file_connection(
        "In",
        str(src),
        columns=[
            ("id", "DT_I4"),
            ("region", "DT_WSTR", 20),
            ("amount", "DT_NUMERIC", 12, 2),
            ("day", "DT_DBDATE"),
        ],
        code_page=65001,  # UTF-8, as polars reads and writes
    )
    p.flat_file_connection("Out", str(dst), code_page=65001)
    df = p.data_flow("Data Flow Task")
    s = df.source("Flat File Source", "Microsoft.FlatFileSource", connection="In")
    if not read_only:
        df.destination(
            "Flat File Destination", "Microsoft.FlatFileDestination", s, connection="Out"
        )
    pkg = p.build()
    t0 = time.perf_counter()
    stats = run_data_flow(pkg, "Data Flow Task")
    seconds = time.perf_counter() - t0
    rows = stats.rows[("Flat File Source", "Flat File Source Output")]
    return {"seconds": seconds, "rows": rows, "rss_mb": _rss_mb()}


def run_polars(src: Path, dst: Path, *, read_only: bool = False) -> dict[str, Any]:
    schema = {"id": pl.Int32, "region": pl.String, "amount": pl.Decimal(12, 2), "day": pl.Date}
    t0 = time.perf_counter()
    if read_only:
        rows: int | None = pl.read_csv(src, schema=schema).height
    else:
        pl.scan_csv(src, schema=schema).sink_csv(dst, line_terminator="\r\n")
        rows = None
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": rows, "rss_mb": _rss_mb()}


RUNNERS = {
    "polars": run_polars,
    "dataflow": run_dataflow,
    "polars-read": lambda s, d: run_polars(s, d, read_only=True),
    "dataflow-read": lambda s, d: run_dataflow(s, d, read_only=True),
}


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            h.update(block)
    return h.hexdigest()


def _child(which: str, src: Path, dst: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_flatfile", "--child", which, str(src), str(dst)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the best time counts")
    ap.add_argument("--child", nargs=3, metavar=("WHICH", "SRC", "DST"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        which, src, dst = args.child
        print(json.dumps(RUNNERS[which](Path(src), Path(dst))))
        return 0
    data_dir = args.data_dir or Path(tempfile.gettempdir()) / "dataflow-bench"
    data_dir.mkdir(parents=True, exist_ok=True)
    src = data_dir / f"flatfile_{args.rows}.csv"
    t0 = time.perf_counter()
    generate(src, args.rows)
    size_mb = src.stat().st_size / 2**20
    print(
        f"input: {src} ({args.rows:,} rows, {size_mb:.0f} MiB; ready in {time.perf_counter() - t0:.1f}s)"
    )
    results: dict[str, dict[str, Any]] = {}
    for which in ("polars", "dataflow", "polars-read", "dataflow-read"):
        runs = [_child(which, src, data_dir / f"out_{which}.csv") for _ in range(args.repeat)]
        best = min(runs, key=lambda r: float(r["seconds"]))
        results[which] = best
        print(
            f"{which:13s} {best['seconds']:7.2f}s  {args.rows / best['seconds'] / 1e6:6.2f} M rows/s"
            f"  peak RSS {best['rss_mb']:7.0f} MiB"
        )
    if results["dataflow"]["rows"] != args.rows:
        print(f"ROW COUNT MISMATCH: {results['dataflow']['rows']} != {args.rows}")
        return 1
    same = _digest(data_dir / "out_dataflow.csv") == _digest(data_dir / "out_polars.csv")
    print(f"output files identical: {same}")
    ratio = results["dataflow"]["seconds"] / results["polars"]["seconds"]
    print(f"ratio dataflow / polars, file -> file: {ratio:.2f} (target <= 1.25)")
    ratio = results["dataflow-read"]["seconds"] / results["polars-read"]["seconds"]
    print(f"ratio dataflow / polars, reading only: {ratio:.2f} (target <= 1.25)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
