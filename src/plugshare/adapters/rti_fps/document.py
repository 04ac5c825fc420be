"""XML in and out: a safe streaming parse with line numbers, and the one serialisation this adapter writes.

Reading uses defusedxml's ``iterparse`` with DTDs forbidden, so that a
document declaring entities (the billion laughs, an external entity reading
``file:///etc/passwd``) is refused at its DOCTYPE before anything is expanded
or fetched. The file is handed to the parser a line at a time (at most 64 KiB
of a longer line), so each event knows the line it came from and memory stays
flat. Writing produces the canonical form: UTF-8, LF line ends, two spaces of
indent per level, one element per line, attributes in a fixed order, and an
element without content written as ``<Name/>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from plugshare.adapters.contract import AdapterError, RecordError

CHUNK = 64 * 1024
ENTITIES_REFUSED = ("the file declares XML entities (a DTD); FPS files never do, and this one is refused for safety")
#: characters XML 1.0 can carry
_XML_CHAR = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _LineSource:
    """A binary file read a line at a time, remembering the line the last piece came from."""

    def __init__(self, handle: IO[bytes]):
        self.handle = handle
        self.line = 0
        self._next = 1

    def read(self, size: int = -1) -> bytes:
        piece = self.handle.readline(CHUNK if size is None or size < 0 else min(size, CHUNK))
        self.line = self._next
        if piece.endswith(b"\n"):
            self._next += 1
        return piece


def events(path: str) -> Iterator[tuple[str, ET.Element, int]]:
    """(event, element, line) for each start and end tag; unusable input raises :class:`AdapterError`."""
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise AdapterError(f"{path}: cannot be read ({exc.strerror}); check the file name and that it is a "
                           f"file") from None
    with handle:
        source = _LineSource(handle)
        try:
            for event, element in SafeET.iterparse(source, events=("start", "end"), forbid_dtd=True,
                                                   forbid_entities=True, forbid_external=True):
                yield event, element, source.line
        except DefusedXmlException:
            raise AdapterError(f"{path} line {source.line}: {ENTITIES_REFUSED}") from None
        except ET.ParseError as exc:
            line, column = exc.position
            reason = re.sub(r": line [0-9]+, column [0-9]+$", "", str(exc))
            if reason.startswith("no element found") and line <= 1:
                raise AdapterError(f"{path}: the file is empty or holds no XML; an FPS is an XML document "
                                   f"starting with <GovTalkMessage> or <IRenvelope>") from None
            raise AdapterError(f"{path} line {line} column {column + 1}: the file is not well-formed XML "
                               f"({reason}); it may have been cut short or edited: ask for it again") from None


@lru_cache(maxsize=1024)
def local(tag: str) -> tuple[str, str]:
    """``{namespace}Name`` -> (namespace, Name)."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


# --- a node tree for writing, and the JSON form of elements kept in extensions ------------------


@dataclass
class Node:
    """An element to write: its name, attributes in order, and either text or child nodes."""

    name: str
    text: str | None = None
    children: list[Node] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)


def leaf(name: str, text: str, **attributes: str) -> Node:
    return Node(name, text, attributes=attributes)


def encode(element: ET.Element, where: str) -> Any:
    """An element kept whole in extensions: its text alone, or {attributes, text, children: [[name, value]]}."""
    children = [[local(child.tag)[1], encode(child, f"{where}/{local(child.tag)[1]}")] for child in element]
    text = (element.text or "").strip()
    if children and (text or any((child.tail or "").strip() for child in element)):
        raise RecordError(f"{where} mixes text and elements; no FPS element does")
    if not children and not element.attrib:
        return text
    value: dict[str, Any] = {}
    if element.attrib:
        value["attributes"] = {local(name)[1]: text for name, text in element.attrib.items()}
    if children:
        value["children"] = children
    elif text:
        value["text"] = text
    return value


def decode(name: str, value: Any, where: str) -> Node:
    """The inverse of :func:`encode`; a value of another shape is a :class:`RecordError` naming it."""
    if isinstance(value, str):
        return Node(name, value)
    if not isinstance(value, dict) or set(value) - {"attributes", "text", "children"}:
        raise RecordError(f"extension {where} is not an element as this adapter keeps one (text, or an object of "
                          f"attributes, text and children)")
    attributes = value.get("attributes", {})
    children = value.get("children", [])
    if not isinstance(attributes, dict) or not isinstance(children, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in children):
        raise RecordError(f"extension {where} has malformed attributes or children")
    return Node(name, value.get("text"), [decode(child, inner, f"{where}/{child}") for child, inner in children],
                {str(key): str(text) for key, text in attributes.items()})


# --- the canonical serialisation ----------------------------------------------------------------

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def escape(text: str, where: str, *, attribute: bool = False) -> str:
    bad = _XML_CHAR.search(text)
    if bad:
        raise RecordError(f"{where}: character U+{ord(bad.group()):04X} cannot be written in XML")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attribute else text


def _attributes(node: Node, where: str) -> str:
    return "".join(f' {name}="{escape(value, f"{where}@{name}", attribute=True)}"'
                   for name, value in node.attributes.items())


def open_tag(node: Node, depth: int) -> str:
    return f"{'  ' * depth}<{node.name}{_attributes(node, node.name)}>"


def close_tag(name: str, depth: int) -> str:
    return f"{'  ' * depth}</{name}>"


def lines(node: Node, depth: int = 0, where: str = "") -> Iterator[str]:
    """The lines of a node and its subtree, without line ends."""
    where = f"{where}/{node.name}" if where else node.name
    pad = "  " * depth
    attributes = _attributes(node, where)
    if node.children:
        yield f"{pad}<{node.name}{attributes}>"
        for child in node.children:
            yield from lines(child, depth + 1, where)
        yield f"{pad}</{node.name}>"
    elif node.text:
        yield f"{pad}<{node.name}{attributes}>{escape(node.text, where)}</{node.name}>"
    else:
        yield f"{pad}<{node.name}{attributes}/>"


def as_node(element: ET.Element, masked: dict[str, Any]) -> Node:
    """A parsed element as a node, for showing a native record; ``masked`` maps element names to a masking."""
    name = local(element.tag)[1]
    text = (element.text or "").strip()
    if name in masked and text:
        text = masked[name](text)
    return Node(name, text or None, [as_node(child, masked) for child in element],
                {local(key)[1]: value for key, value in element.attrib.items()})
