"""The saved XML of a built package has the element and attribute layout of the format-8 corpus.

For every kind of object in a package built with the builder API (package root, connection
managers incl. flat file, variables, parameters, each container kind and tasks, precedence
constraints, event handlers, pipeline components, inputs, outputs, columns, paths) this checks
that (a) every element the saved file uses also appears in the format-8 packages of the public
corpus, under the same parent element, and (b) the attributes written on each kind of element are
a subset of those the corpus uses on that kind of element; the exceptions are listed below, each
with the reason it is right to write the attribute anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from dataflow.core.errors import LoadError
from dataflow.package.writer import to_xml_bytes
from dataflow.package.xmlsafe import parse_file, parse_xml
from tests.package.test_builder import build_everything, sales_package

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "dtsx-corpus"
DTS_NS = "www.microsoft.com/SqlServer/Dts"
D = f"{{{DTS_NS}}}"

Kind = str
# Attribute names by kind of element, and (parent tag, child tag) pairs.
Layout = tuple[dict[Kind, set[str]], set[tuple[str, str]]]

# Attributes the builder writes that no format-8 corpus package happens to use on that kind of
# element; each is a documented attribute of that element (reference/ssis/dtsx-format.md).
_ROOT = "package attribute (dtsx-format.md §1, root element)"
_OPTION = "executable option (dtsx-format.md §1, Executables)"
ATTRIBUTE_EXCEPTIONS: dict[tuple[Kind, str], str] = {
    ("DTS:PackageParameter", "DTS:Sensitive"): "sensitive parameters (§1); none in the corpus",
    ("DTS:PackageParameter", "DTS:Description"): "parameter description (§1); none in the corpus",
    ("DTS:Executable[package]", "DTS:CheckpointFileName"): _ROOT,
    ("DTS:Executable[package]", "DTS:CheckpointUsage"): _ROOT,
    ("DTS:Executable[package]", "DTS:SaveCheckpoints"): _ROOT,
    ("DTS:Executable[package]", "DTS:Description"): _ROOT,
    ("DTS:Variable", "DTS:ReadOnly"): "read-only variables (§1, Variables)",
    ("DTS:Variable", "DTS:RaiseChangedEvent"): "RaiseChangedEvent (§1, Variables)",
    ("DTS:Executable[task]", "DTS:ForceExecutionResult"): _OPTION,
    ("DTS:Executable[task]", "DTS:DelayValidation"): _OPTION,
    ("DTS:Executable[task]", "DTS:ISOLevel"): _OPTION,
    ("DTS:Executable[task]", "DTS:DisableEventHandlers"): _OPTION,
    ("DTS:Executable[STOCK:SEQUENCE]", "DTS:FailPackageOnFailure"): _OPTION,
    ("DTS:Executable[STOCK:SEQUENCE]", "DTS:TransactionOption"): _OPTION,
    ("pipeline", "defaultBufferMaxRows"): "buffer option (dtsx-format.md §3, pipeline)",
}
ELEMENT_EXCEPTIONS: dict[tuple[str, str], str] = {}
TYPE_ATTRIBUTES = frozenset(
    {"dataType", "length", "precision", "scale", "codePage"}
    | {"cachedDataType", "cachedLength", "cachedPrecision", "cachedScale", "cachedCodepage"}
)


def tag_name(tag: str) -> str:
    if tag.startswith(D):
        return "DTS:" + tag[len(D) :]
    return tag


def kind_of(el: etree._Element) -> Kind:
    """The kind of object an element stands for (finer than its tag where layouts differ)."""
    name = tag_name(str(el.tag))
    parent = el.getparent()
    if name == "DTS:Executable":
        if parent is None:
            return "DTS:Executable[package]"
        creation = str(el.get(f"{D}CreationName", ""))
        if creation.upper().startswith("STOCK:"):
            return f"DTS:Executable[{creation.upper()}]"
        if creation == "Microsoft.Pipeline":
            return "DTS:Executable[pipeline]"
        return "DTS:Executable[task]"
    if (
        name == "DTS:ConnectionManager"
        and parent is not None
        and tag_name(str(parent.tag)) == "DTS:ObjectData"
    ):
        outer = parent.getparent()
        creation = "" if outer is None else str(outer.get(f"{D}CreationName", ""))
        return f"DTS:ConnectionManager[{creation.split(':', 1)[0].upper()}]"
    if name == "DTS:Property" and parent is not None:
        return f"DTS:Property[{kind_of(parent)}]"
    if name == "property" and parent is not None:
        owner = parent.getparent()
        name = f"property[{'' if owner is None else tag_name(str(owner.tag))}]"
    if name in PIPELINE_KINDS or name.startswith("property["):
        # Pipeline objects: per component class (the layout differs from class to class).
        comp = el if el.tag == "component" else next(el.iterancestors("component"), None)
        return f"{name}|{'' if comp is None else comp.get('componentClassID', '')}"
    return name


PIPELINE_KINDS = frozenset(
    {
        "component",
        "connection",
        "input",
        "output",
        "inputColumn",
        "outputColumn",
        "externalMetadataColumn",
    }
)


def generic(kind: Kind) -> Kind | None:
    """A pipeline kind without its component class (for classes the corpus does not have)."""
    return kind.split("|", 1)[0] if "|" in kind else None


def attr_name(key: str) -> str:
    return tag_name(key) if key.startswith(D) else key


def layout(roots: Iterable[etree._Element]) -> Layout:
    attrs: dict[Kind, set[str]] = defaultdict(set)
    pairs: set[tuple[str, str]] = set()
    for root in roots:
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            attrs[kind_of(el)].update(attr_name(str(k)) for k in el.attrib)
            parent = el.getparent()
            if parent is not None:
                pairs.add((tag_name(str(parent.tag)), tag_name(str(el.tag))))
    return attrs, pairs


def is_format8(root: etree._Element) -> bool:
    return any(
        c.tag == f"{D}Property"
        and c.get(f"{D}Name") == "PackageFormatVersion"
        and (c.text or "").strip() == "8"
        for c in root
    )


@cache
def corpus_layout() -> Layout:
    roots = []
    for path in sorted(CORPUS.rglob("*.dtsx")):
        try:
            root = parse_file(path)
        except LoadError:
            continue
        if is_format8(root):
            roots.append(root)
    assert len(roots) >= 20, "too few format-8 packages in the corpus to compare with"
    return layout(roots)


def built_layout() -> Layout:
    roots = [
        parse_xml(to_xml_bytes(build_everything()), "everything.dtsx"),
        parse_xml(to_xml_bytes(sales_package().build()), "sales.dtsx"),
    ]
    return layout(roots)


def requires_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/dtsx-corpus not present (it sits beside the checkout in CI only)")


KINDS_BUILT = (
    "DTS:Executable[package]",
    "DTS:Executable[STOCK:SEQUENCE]",
    "DTS:Executable[STOCK:FORLOOP]",
    "DTS:Executable[STOCK:FOREACHLOOP]",
    "DTS:Executable[pipeline]",
    "DTS:Executable[task]",
    "DTS:ConnectionManager",
    "DTS:ConnectionManager[FLATFILE]",
    "DTS:ConnectionManager[OLEDB]",
    "DTS:ConnectionManager[FILE]",
    "DTS:FlatFileColumn",
    "DTS:Variable",
    "DTS:VariableValue",
    "DTS:PackageParameter",
    "DTS:PrecedenceConstraint",
    "DTS:EventHandler",
    "DTS:ForEachEnumerator",
    "DTS:ForEachVariableMapping",
    "DTS:LoggingOptions",
    "DTS:PropertyExpression",
    "pipeline",
    "component|Microsoft.FlatFileSource",
    "component|Microsoft.FlatFileDestination",
    "component|Microsoft.DerivedColumn",
    "component|Microsoft.ConditionalSplit",
    "component|Microsoft.Multicast",
    "component|Microsoft.UnionAll",
    "component|Microsoft.RowCount",
    "component|Microsoft.DataConvert",
    "component|Microsoft.Sort",
    "component|Microsoft.Aggregate",
    "component|Microsoft.Lookup",
    "component|Microsoft.ManagedComponentHost",
    "connection|Microsoft.FlatFileSource",
    "input|Microsoft.DerivedColumn",
    "output|Microsoft.ConditionalSplit",
    "inputColumn|Microsoft.UnionAll",
    "outputColumn|Microsoft.FlatFileSource",
    "externalMetadataColumn|Microsoft.FlatFileDestination",
    "property[component]|Microsoft.Lookup",
    "property[output]|Microsoft.ConditionalSplit",
    "property[inputColumn]|Microsoft.Sort",
    "property[outputColumn]|Microsoft.Aggregate",
    "path",
)


@pytest.mark.corpus
def test_built_package_covers_every_kind() -> None:
    """The comparison below is only as good as the kinds of object it sees."""
    requires_corpus()
    attrs, _pairs = built_layout()
    missing = [k for k in KINDS_BUILT if k not in attrs]
    assert not missing


@pytest.mark.corpus
def test_elements_appear_in_the_corpus_under_the_same_parent() -> None:
    requires_corpus()
    _attrs, corpus_pairs = corpus_layout()
    _b, built_pairs = built_layout()
    unknown = sorted(p for p in built_pairs - corpus_pairs if p not in ELEMENT_EXCEPTIONS)
    assert not unknown, f"elements never seen under that parent in format-8 packages: {unknown}"


@pytest.mark.corpus
def test_attributes_are_a_subset_of_the_corpus() -> None:
    requires_corpus()
    corpus_attrs, _pairs = corpus_layout()
    built_attrs, _b = built_layout()
    problems = []
    for kind, names in sorted(built_attrs.items()):
        seen = corpus_attrs.get(kind)
        base = generic(kind)
        if base is not None:
            anywhere = set().union(*(v for k, v in corpus_attrs.items() if generic(k) == base))
            # A class the corpus lacks is compared with every class; type attributes follow the
            # column's data type (datatypes.md §1), not the component, so with every class too.
            seen = anywhere if seen is None else seen | (anywhere & TYPE_ATTRIBUTES)
        if seen is None:
            problems.append(f"{kind}: no element of this kind in the corpus")
            continue
        extra = sorted(n for n in names - seen if (kind, n) not in ATTRIBUTE_EXCEPTIONS)
        if extra:
            problems.append(f"{kind}: {extra}")
    assert not problems, "attributes never seen on that kind of element:\n" + "\n".join(problems)


@pytest.mark.corpus
def test_exceptions_are_still_needed() -> None:
    """An exception the corpus or the builder no longer needs is removed from the list."""
    requires_corpus()
    corpus_attrs, _pairs = corpus_layout()
    built_attrs, _b = built_layout()
    stale = sorted(
        (kind, name)
        for kind, name in ATTRIBUTE_EXCEPTIONS
        if name in corpus_attrs.get(kind, set()) or name not in built_attrs.get(kind, set())
    )
    assert not stale


def test_kind_of_tells_containers_apart() -> None:
    root = parse_xml(
        b'<DTS:Executable xmlns:DTS="www.microsoft.com/SqlServer/Dts" DTS:refId="Package">'
        b'<DTS:Executables><DTS:Executable DTS:CreationName="STOCK:SEQUENCE"/>'
        b'<DTS:Executable DTS:CreationName="Microsoft.ExecuteSQLTask"/></DTS:Executables>'
        b"</DTS:Executable>",
        "inline",
    )
    kinds = [kind_of(e) for e in root.iter()]
    assert kinds == [
        "DTS:Executable[package]",
        "DTS:Executables",
        "DTS:Executable[STOCK:SEQUENCE]",
        "DTS:Executable[task]",
    ]
