"""Reading input files as text while remembering how to write them back byte for byte."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from migrate.errors import MigrateError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class UndecodableText(MigrateError):
    """The bytes are not text in any encoding YAML allows."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class SourceText:
    """A file's text with its encoding, byte-order mark and newline style.

    `text` has no BOM and keeps the file's own newlines; `encode(text)` gives the
    original bytes back when the text is unchanged.
    """

    path: str
    text: str
    encoding: str
    bom: bytes
    newline: str
    ends_with_newline: bool

    def encode(self, text: str) -> bytes:
        """Bytes for `text` in this file's encoding, with its BOM."""
        return self.bom + text.encode(self.encoding)


def detect_newline(text: str) -> str:
    """The file's newline style: the first line break decides; LF when there is none."""
    index = text.find("\n")
    if index > 0 and text[index - 1] == "\r":
        return "\r\n"
    if index < 0 and "\r" in text:
        return "\r"
    return "\n"


def decode(path: str, data: bytes) -> SourceText:
    """Decode bytes as YAML allows (UTF-8, or UTF-16/32 with a BOM); raise UndecodableText."""
    found, encoding = next(((b, e) for b, e in _BOMS if data.startswith(b)), (b"", "utf-8"))
    body = data[len(found) :]
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        line, column = _position_of_byte(body, exc.start)
        raise UndecodableText(
            f"byte 0x{body[exc.start]:02x} at offset {exc.start + len(found)} "
            f"is not valid {encoding}",
            line,
            column,
        ) from None
    return SourceText(
        path=path,
        text=text,
        encoding=encoding,
        bom=found,
        newline=detect_newline(text),
        ends_with_newline=text.endswith(("\n", "\r")),
    )


def _position_of_byte(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of `offset`."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1
