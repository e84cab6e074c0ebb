"""GeoReport v2 answers in JSON and XML, and its error shape.

JSON keeps Chinese as it is (`ensure_ascii=False`); XML is built with ElementTree (so every
text is escaped by the library, never by hand) and declares UTF-8. Lists are named by the
spec's element names: `services/service`, `service_requests/request`, `attributes/attribute`,
`values/value`, `endpoints/endpoint`, `formats/format`, `errors/error`."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from django.http import HttpResponse

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8",
                 "xml": "text/xml; charset=utf-8"}

#: the XML element name of one item of a list held under this key
ITEM_TAG = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


class Open311Error(Exception):
    """An answer in the spec's error shape: HTTP `status`, [{code, description}]."""

    def __init__(self, status: int, description: str) -> None:
        self.status = status
        self.description = description
        super().__init__(description)


#: what XML 1.0 cannot carry (C0 controls but tab, LF, CR): dropped, so a character that
#: slipped into a stored text through another channel never makes a whole list unreadable
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else _NOT_XML.sub("", str(value))


def _fill(parent: ET.Element, key: str, value: Any) -> None:
    """Append `value` under `parent` as element `key` (lists as repeated item elements)."""
    node = ET.SubElement(parent, key)
    if isinstance(value, Mapping):
        for k, v in value.items():
            _fill(node, k, v)
    elif isinstance(value, (list, tuple)):
        item = ITEM_TAG.get(key, "item")
        for v in value:
            _fill(node, item, v) if isinstance(v, Mapping) else _leaf(node, item, v)
    else:
        node.text = _text(value)


def _leaf(parent: ET.Element, key: str, value: Any) -> None:
    ET.SubElement(parent, key).text = _text(value)


def to_xml(root: str, body: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """`root` holding either one mapping (discovery, service_definition) or a list of
    mappings as `ITEM_TAG[root]` elements (services, service_requests, errors)."""
    top = ET.Element(root)
    if isinstance(body, Mapping):
        for k, v in body.items():
            _fill(top, k, v)
    else:
        for row in body:
            _fill(top, ITEM_TAG[root], row)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def answer(fmt: str, root: str, body: Any, status: int = 200) -> HttpResponse:
    """The body as JSON (as is) or XML (under `root`)."""
    if fmt == "xml":
        content = to_xml(root, body)
    else:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return HttpResponse(content, status=status, content_type=CONTENT_TYPES[fmt])


def error(fmt: str, status: int, description: str, *, allow: str = "") -> HttpResponse:
    """[{code, description}] (XML: <errors><error><code/><description/></error></errors>);
    a 405 says which methods the endpoint takes (`allow`)."""
    body = [{"code": status, "description": description}]
    response = answer(fmt if fmt in FORMATS else "json", "errors", body, status=status)
    if allow:
        response["Allow"] = allow
    return response
