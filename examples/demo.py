"""The demo: build a package in Python, save it as .dtsx, load it back, check it and run it.

``make demo`` runs this module on the embedded defaults: it writes a generated sales file
(deterministic, 200,000 rows) and the package under ``build/demo/`` (never committed), then runs
the package's data flow — Flat File Source -> Derived Column -> Conditional Split -> Flat File
Destination (east) and Parquet Destination (the rest) with a Row Count — and prints the rows on
every path and the first rows of the output.

Once the DataReader destination and ``dtsclient`` land (issue 6), the demo reads its output
through ``dtsclient`` instead of the output file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl

from dataflow import load_package
from dataflow.control.compat import check_package
from dataflow.package import builder as b
from dataflow.pipeline import run_data_flow

ROOT = Path(__file__).resolve().parents[1]


def make_input(path: Path, rows: int) -> None:
    """A deterministic sales file (vectorised, no per-row Python)."""
    rng = np.random.default_rng(7)
    regions = np.array(["east", "west", "north", "south"])
    frame = pl.DataFrame(
        {
            "order_id": np.arange(1, rows + 1, dtype=np.int32),
            "region": regions[rng.integers(0, 4, rows)],
            "quantity": rng.integers(1, 20, rows).astype(np.int32),
            "unit_price": np.round(rng.uniform(1, 500, rows), 2),
        }
    )
    frame.write_csv(path)


def build_package(data: Path, out_dir: Path) -> b.PackageBuilder:
    p = b.PackageBuilder("SalesDemo", seed=42)
    p.parameter("DataDir", "String", str(data.parent))
    p.variable("User::OtherRows", "Int32", 0)
    src = p.flat_file_connection(
        "Sales",
        str(data),
        columns=[
            ("order_id", "DT_I4"),
            ("region", "DT_WSTR", 10),
            ("quantity", "DT_I4"),
            ("unit_price", "DT_R8"),
        ],
        header=True,
        delimiter=",",
        row_delimiter="\n",  # polars writes LF line ends (SSDT's default would be CRLF)
        header_row_delimiter="\n",
    )
    src.expression("ConnectionString", '@[$Package::DataDir] + "/' + data.name + '"')
    p.flat_file_connection(
        "East", str(out_dir / "east.csv"), header=True, delimiter=",", row_delimiter="\n"
    )
    df = p.data_flow("Load Sales")
    s = df.flat_file_source("Read sales", "Sales")
    d = df.derived_column("Compute", s)
    d.derived_column("total", "quantity * unit_price", "DT_R8")
    d.replace("region", "UPPER(TRIM(region))")
    split = df.conditional_split("By region", d)
    split.case("East", 'region == "EAST"')
    df.flat_file_destination("Write east", (split, "East"), "East")
    rest = df.multicast("Rest", (split, "Conditional Split Default Output"))
    df.row_count("Count rest", rest, "User::OtherRows")
    df.destination(
        "Write rest",
        "Dataflow.ParquetDestination",
        rest,
        properties={"FileName": str(out_dir / "rest.parquet")},
    )
    return p


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--dir", type=Path, default=ROOT / "build" / "demo")
    args = ap.parse_args(argv)
    work: Path = args.dir
    work.mkdir(parents=True, exist_ok=True)
    data = work / "sales.csv"
    make_input(data, args.rows)

    dtsx = work / "SalesDemo.dtsx"
    build_package(data, work).save(dtsx)
    pkg = load_package(dtsx)  # a real .dtsx round trip
    report = check_package(dtsx)
    print(f"Built and saved {dtsx} (format {report.format}); validate:")
    for comp in report.components:
        print(f"  {comp.status:<11} {comp.kind:<32} {comp.ref_id}")

    stats = run_data_flow(pkg, "Load Sales", parameters={"DataDir": str(work)})
    print(f"\nRan 'Load Sales' in {stats.seconds:.2f}s; rows per path:")
    for (component, output), rows in stats.rows.items():
        print(f"  {rows:>9,}  {component} -> {output}")
    print(f"  User::OtherRows = {stats.variables['User::OtherRows']:,}")

    east = pl.read_csv(work / "east.csv")
    print(f"\nFirst rows of {work / 'east.csv'} ({east.height:,} rows):")
    with pl.Config(tbl_rows=5, tbl_cols=8):
        print(east.head(5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
