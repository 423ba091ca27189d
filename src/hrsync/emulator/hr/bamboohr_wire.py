"""How BambooHR writes its answers: errors, JSON or XML by ``Accept``, and its XML shapes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from hrsync.emulator.core import EmuResponse

JSON = "application/json"
XML = "application/xml"  # as the document lists for these endpoints (the report: text/xml)
ERROR_HEADER = "x-bamboohr-error-message"  # where BambooHR says what went wrong


class BambooError(Exception):
    """Raised inside handlers; BambooHR's error answer: a status, its message in the
    ``X-BambooHR-Error-Message`` header, and (on the List Employees endpoint) a JSON
    ``{"error": {"code", "message"}}`` body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message)
        self.status, self.message, self.code = status, message, code
        self.headers = headers or {}

    def response(self) -> EmuResponse:
        headers = {ERROR_HEADER: self.message, **self.headers}
        if self.code is None:
            return EmuResponse(self.status, None, headers)
        return EmuResponse(
            self.status, {"error": {"code": self.code, "message": self.message}}, headers
        )


def bad_request(message: str, *, code: str | None = None) -> BambooError:
    return BambooError(400, message, code=code)


def wants_json(headers: dict[str, str], *, json_by_default: bool) -> bool:
    """BambooHR answers XML unless ``Accept`` names ``application/json`` (the variant
    bamboohr-json-by-default answers JSON unless ``Accept`` names an XML type only)."""
    media = [part.split(";")[0].strip().lower() for part in headers.get("accept", "").split(",")]
    if JSON in media:
        return True
    if json_by_default:
        return not any(m in ("application/xml", "text/xml") for m in media)
    return False


def json_answer(body: Any, headers: dict[str, str] | None = None) -> EmuResponse:
    return EmuResponse(200, body, {"content-type": JSON, **(headers or {})})


def xml_answer(root: ET.Element, content_type: str = XML) -> EmuResponse:
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return EmuResponse(200, body, {"content-type": content_type})


def raw_answer(body: bytes, content_type: str) -> EmuResponse:
    return EmuResponse(200, body, {"content-type": content_type})


def element(tag: str, text: str | None = None, **attributes: str | None) -> ET.Element:
    node = ET.Element(tag, {k: v for k, v in attributes.items() if v is not None})
    node.text = text
    return node


def child(
    parent: ET.Element, tag: str, text: str | None = None, **attributes: str | None
) -> ET.Element:
    node = element(tag, text, **attributes)
    parent.append(node)
    return node


def employee_fields_xml(tag: str, emp_id: str, values: dict[str, str | None]) -> ET.Element:
    """``<employee id="1"><field id="firstName">Ava</field>...</employee>``."""
    node = element(tag, id=emp_id)
    for name, value in values.items():
        child(node, "field", value, id=name)
    return node


def parse_json_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise bad_request("Malformed JSON") from None


def parse_xml_body(body: bytes) -> ET.Element:
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        raise bad_request("Malformed XML") from None
