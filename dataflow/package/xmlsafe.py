"""Safe XML parsing for every file the product reads (.dtsx, .dtproj, .params, .conmgr, .ispac).

Entity resolution, DTD loading, network access and huge trees are off; a document that declares
a DTD or an entity is rejected before parsing with ``DTS_E_XMLENTITYREJECTED`` (never followed,
never expanded), so an external-entity or entity-expansion ("billion laughs") file costs nothing
and reads no other file.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from dataflow.core.errors import LoadError
from dataflow.package.model import EMPTY, FrozenMap, XmlNode

_DECL = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _as_utf8_probe(data: bytes) -> bytes:
    """Bytes to scan for declarations: UTF-16 files are decoded first."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and data[1:2] == b"\x00"):
        try:
            return data.decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            return data
    return data


def parse_xml(data: bytes, source: str) -> etree._Element:
    """Parse ``data`` (the content of ``source``) safely; every failure is a coded :class:`LoadError`."""
    m = _DECL.search(_as_utf8_probe(data))
    if m:
        raise LoadError(
            "DTS_E_XMLENTITYREJECTED",
            f"the file declares a {m.group(1).decode().upper()}; DTDs and entities are not allowed",
            path=source,
            hint="a .dtsx never needs a DTD; remove it (it may be an attack: entities are never followed)",
        )
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise LoadError(
            "DTS_E_LOADPACKAGEXML",
            f"not well-formed XML: {exc.msg}" + (f" (line {line})" if line else ""),
            path=source,
            hint="the file is truncated or corrupt; restore it from source control",
        ) from None
    if root is None:
        raise LoadError("DTS_E_LOADPACKAGEXML", "the file holds no XML element", path=source)
    return root


def parse_file(path: str | Path) -> etree._Element:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise LoadError(
            "DTS_E_OPENPACKAGEFILE", "the file does not exist", path=str(p), hint="check the path"
        ) from None
    except OSError as exc:
        raise LoadError(
            "DTS_E_OPENPACKAGEFILE", f"cannot read the file: {exc.strerror}", path=str(p)
        ) from None
    return parse_xml(data, str(p))


def local(tag: object) -> str:
    """Local name of an element tag (``{ns}Name`` -> ``Name``)."""
    return str(tag).rsplit("}", 1)[-1]


XMLENC_NS = "http://www.w3.org/2001/04/xmlenc#"
ENCRYPTED_DATA = f"{{{XMLENC_NS}}}EncryptedData"
ENCRYPTED_NAME = "(sensitive properties encrypted with the package password)"


def to_node(elem: etree._Element, encrypted: list[str] | None = None) -> XmlNode:
    """An lxml element as an immutable :class:`XmlNode`.

    Encrypted values (``Encrypted="1"``) are dropped: their names go into ``encrypted`` and the
    element is kept without its ciphertext, so that a user can supply the value at run time.
    """
    attrs: dict[str, str] = {str(k): str(v) for k, v in elem.attrib.items()}
    text = elem.text
    if attrs.get("Encrypted") == "1":
        if encrypted is not None:
            name = next((v for k, v in attrs.items() if local(k) == "Name"), None)
            encrypted.append(name or local(elem.tag))
        attrs.pop("Encrypted")
        text = None
        children: tuple[XmlNode, ...] = ()
    else:
        kept = []
        for c in elem:
            if not isinstance(c.tag, str):
                continue
            if c.tag == ENCRYPTED_DATA:  # EncryptSensitiveWithPassword: ciphertext is not kept
                if encrypted is not None:
                    encrypted.append(ENCRYPTED_NAME)
                continue
            kept.append(to_node(c, encrypted))
        children = tuple(kept)
    if children and text is not None and not text.strip():
        text = None
    tail = elem.tail if elem.tail and elem.tail.strip() else None
    nsmap = FrozenMap({k or "": v for k, v in elem.nsmap.items()}) if elem.nsmap else EMPTY
    return XmlNode(
        str(elem.tag),
        FrozenMap({str(k): str(v) for k, v in attrs.items()}),
        text,
        children,
        tail,
        nsmap,
    )
