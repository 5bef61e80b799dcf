"""Flat File Sources of real packages from the corpus, run against the corpus's own data files.

For each package below, the data flow is cut down to its Flat File Source plus collecting sinks on
the source's outputs (downstream components may not be implemented yet), the connection is
pointed at a copy of the data file that sits next to the package in the corpus, and the rows read
are checked row for row against an independent read of the same file with polars.

Git stores the corpus's text files with LF line ends; where the connection manager's row
delimiter is CRLF (as on the Windows machine the package was made on) the copy is given CRLF.
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import polars as pl
import pytest

import dataflow.pipeline.components.flatfile_source  # noqa: F401 - registers the component
from dataflow.package.model import Component, DataFlowPath, Input, Package
from dataflow.package.reader import load_package
from dataflow.pipeline import run_data_flow
from dataflow.pipeline.components.flatfile_source import flat_file_format
from tests.conftest import CORPUS_SKIP
from tests.pipeline.test_flatfile_source import COLLECTED, by_name

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "dtsx-corpus"

# (package, data-flow task, Flat File Source, data file beside the package)
CASES = [
    (
        "AbdulazizNafea__SQLServerIntegrationServices-SSIS/134__Version2005__Demo__DataMigration__DataMigration__Ch4Blob.dtsx",
        "Data Flow Task",
        "Picture File Source",
        "134__Version2005__Demo__FilesToImport.txt",
    ),
    (
        "AbdulazizNafea__SQLServerIntegrationServices-SSIS/134__Version2005__Scripts__Solutions__SSISIntegration__SSISIntegration__Payroll.dtsx",
        "Payroll Data Flow",
        "Payroll Source",
        "134__Exercises__Payroll.txt",
    ),
    (
        "AbdulazizNafea__SQLServerIntegrationServices-SSIS/134__Version2008R2__Solutions__MyPackages__MyPackages__WMI_Import.dtsx",
        "Data Flow Task",
        "Flat File Source",
        "134__CarSales.txt",
    ),
    (
        "AbdulazizNafea__SQLServerIntegrationServices-SSIS/134__Version2008R2__Solutions__SSISIntegration__SSISIntegration__Payroll.dtsx",
        "Payroll Data Flow",
        "Payroll Source",
        "134__Exercises__Payroll.txt",
    ),
    (
        "AmroSuliman__ETL-SSIS-Real-Scenarios/UseCase_19__19 Import files from multiple locations to SQL Server in SSIS__19 Import files from multiple locations to SQL Server in SSIS__Package.dtsx",
        "Data Flow Task",
        "Flat File Source",
        "UseCase_19__files__sample_Data.csv",
    ),
    (
        "AmroSuliman__ETL-SSIS-Real-Scenarios/UseCase_25__25 Import files in an order using ssis__25 Import files in an order using ssis__Package.dtsx",
        "Data Flow Task",
        "Flat File Source",
        "UseCase_25__Archivefiles__zipcode_20210901.CSV",
    ),
    (
        "AmroSuliman__ETL-SSIS-Real-Scenarios/UseCase_33__Integration Services Project1__Integration Services Project1__Package.dtsx",
        "Data Flow Task",
        "Flat File Source",
        "UseCase_33__33 Check if file size is greater than 0 KB and only load that file in SSIS__Dollar.CSV",
    ),
    (
        "AmroSuliman__ETL-SSIS-Real-Scenarios/UseCase_60__60 What is the most complex SSIS package you have worked__60 What is the most complex SSIS package you have worked__Customer.dtsx",
        "Import data",
        "Flat File Source",
        "UseCase_60__60 What is the most complex SSIS package you have worked on__Customer_20220625__Customer_part1.CSV",
    ),
    (
        "lucmilot__SSIS_2014_Book/850879_c04_download__Chapter4__Term Extraction.dtsx",
        "Data Flow Task",
        "Flat File Source",
        "850879_c04_download__custsvc.txt",
    ),
    (
        "lucmilot__SSIS_2014_Book/850879_c15_download__ProSSIS__Code__Ch15__08_ScreenShotsOnly.dtsx",
        "34",
        "Flat File Source",
        "850879_c15_download__ProSSIS__Files__ff.txt",
    ),
    (
        "niroshank__sttm-dimenisonal-dw-ssis-scd-tutorial/Dollmart.IntegrationServices__Date.dtsx",
        "Load Date Dimension",
        "Date Flat File Source",
        "Dollmart.IntegrationServices__resources__dimDate_data.csv.tx.txt",
    ),
    (
        "tinitiate__ms-ssis/code__Conditional_Split__Conditional_Split__Package.dtsx",
        "Data Flow Task",
        "Flat File Source",
        "csv_files__customer4.csv",
    ),
    (
        "tinitiate__ms-ssis/code__Flat_File_CSV__Flat_File_CSV__Package.dtsx",
        "CSV FIle Loading",
        "Flat File Source",
        "csv_files__customer1.csv",
    ),
]


def _only_source(pkg: Package, task: str, source: str) -> tuple[Package, Component]:
    """A copy of ``pkg`` whose data flow ``task`` is just ``source`` -> collecting sinks."""
    exe = pkg.find(task)
    assert exe.pipeline is not None
    comp = exe.pipeline.component(source)
    base = exe.ref_id
    components: list[Component] = [comp]
    paths: list[DataFlowPath] = []
    for i, out in enumerate(comp.outputs):
        name = "Rows" if not out.is_error_output else "Errors"
        ref = f"{base}\\{name}"
        components.append(
            Component(ref, name, "Test.FlatFileCollect", inputs=(Input(f"{ref}.Inputs[In]", "In"),))
        )
        paths.append(DataFlowPath(f"{base}.Paths[p{i}]", f"p{i}", out.ref_id, f"{ref}.Inputs[In]"))
    pipeline = dataclasses.replace(exe.pipeline, components=tuple(components), paths=tuple(paths))
    new_exe = dataclasses.replace(exe, pipeline=pipeline)

    def swap(e: object) -> object:
        if e is exe:
            return new_exe
        if hasattr(e, "executables") and e.executables:  # type: ignore[attr-defined]
            return dataclasses.replace(e, executables=tuple(swap(c) for c in e.executables))  # type: ignore[attr-defined, type-var]
        return e

    return swap(pkg), comp  # type: ignore[return-value]


def _independent_read(data: bytes, pkg: Package, comp: Component) -> pl.DataFrame:
    """The file read with polars' CSV reader, as text (the reference to compare with)."""
    cm = pkg.connection(comp.connections[0].manager_ref)
    fmt = flat_file_format(cm)
    text = data.decode(fmt.encoding).lstrip("\ufeff")
    for _ in range(fmt.header_rows_to_skip):
        text = text.split(fmt.header_row_delimiter, 1)[1]
    names = [c.name for c in fmt.columns]
    if not text.strip():
        return pl.DataFrame({n: [] for n in names}, schema=dict.fromkeys(names, pl.String))
    sep = fmt.columns[0].delimiter if len(fmt.columns) > 1 else "\x1f"
    df = pl.read_csv(
        io.BytesIO(text.encode()),
        has_header=fmt.column_names_in_first_row,
        new_columns=names,
        separator=sep,
        quote_char=fmt.text_qualifier or None,
        infer_schema=False,
        skip_rows_after_header=fmt.data_rows_to_skip,
    )
    return df


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("package", "task", "source", "data_file"),
    CASES,
    ids=[re.sub(r"[^A-Za-z0-9]+", "_", c[0].split("/")[-1])[-40:] for c in CASES],
)
def test_corpus_flat_file_source(
    package: str, task: str, source: str, data_file: str, tmp_path: Path
) -> None:
    if not CORPUS.is_dir():
        pytest.skip(CORPUS_SKIP)
    pkg = load_package(str(CORPUS / package))
    # The connection string is overridden below, so property expressions are dropped: they
    # read loop variables set by containers that do not run here (and UseCase_19 binds its
    # RowDelimiter, not its ConnectionString, to the file path -- an authoring slip).
    pkg = pkg.with_changes(
        connection_managers=tuple(
            dataclasses.replace(c, property_expressions=()) for c in pkg.connection_managers
        )
    )
    cut, comp = _only_source(pkg, task, source)
    cm = pkg.connection(comp.connections[0].manager_ref)
    data = (CORPUS / package).parent.joinpath(data_file).read_bytes()
    if flat_file_format(cm).record_delimiter == "\r\n" and b"\r\n" not in data:
        data = data.replace(b"\n", b"\r\n")
    copy = tmp_path / data_file
    copy.write_bytes(data)
    COLLECTED.clear()
    stats = run_data_flow(cut, task, connections={cm.name: str(copy)})
    main = next(o for o in comp.outputs if not o.is_error_output)
    got = by_name("Rows") if COLLECTED.get("Rows") else None
    expected = _independent_read(data, pkg, comp)
    assert stats.rows[(comp.name, main.name)] == expected.height
    assert sum(s.rows for s in stats.outputs.values() if s.is_error_output) == 0
    if expected.height == 0:
        return
    assert got is not None
    external = {e.ref_id: e.name for e in main.external_columns}
    for col in main.columns:
        file_col = external.get(col.attrs.get("externalMetadataColumnId", ""), col.name)
        ours = got.column(col.name).to_pylist()
        theirs = expected.get_column(file_col).to_list()
        if isinstance(next((v for v in ours if v is not None), ""), str):
            assert [v or "" for v in ours] == [v or "" for v in theirs], col.name
        else:  # typed columns: compare numerically / as text of the parsed value
            parsed = pl.Series(theirs).str.strip_chars().cast(pl.Float64, strict=False).to_list()
            assert [None if v is None else float(v) for v in ours] == parsed, col.name
