"""Reading JSON text as Kubernetes' decoder reads it, every refusal a located problem.

Duplicate keys are refused (as kubectl refuses them), an integer too long to convert is out
of range, nesting too deep to read is refused, and a string escape that names half of a
UTF-16 pair (`"\\ud800"`, which Go reads as U+FFFD) is reported and read as U+FFFD, so that
nothing that is not text travels further.
"""

from __future__ import annotations

import json
import re
from typing import Any

from migrate.load.construct import MAX_DIGITS, too_long

_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(Exception):
    """The text cannot be read as JSON: a finding `code` at 1-based `line` and `column`."""

    def __init__(self, code: str, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.column = column


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _LongInteger(Exception):
    def __init__(self, digits: str) -> None:
        super().__init__(digits)
        self.digits = digits


def load_json(text: str) -> tuple[Any, list[JsonRefused]]:
    """The value of `text` and the problems that did not stop reading it (lone surrogates,
    each read as U+FFFD). Raises JsonRefused when the text cannot be read."""
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise JsonRefused("AM010", exc.msg, exc.lineno, exc.colno) from None
    except _Duplicate as exc:
        raise JsonRefused("AM005", f"duplicate key {exc.key!r}") from None
    except _LongInteger as exc:
        where = _position(text, text.find(exc.digits))
        raise JsonRefused("AM017", too_long(len(exc.digits)), *where) from None
    except RecursionError:
        raise JsonRefused("AM009", "structure too deep to read") from None
    problems: list[JsonRefused] = []
    if "\\u" in text or "\\U" in text:
        value = _whole_text(value, text, problems)
    return value, problems


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(key)
        result[key] = value
    return result


def _integer(digits: str) -> int:
    if len(digits) > MAX_DIGITS:
        raise _LongInteger(digits)
    return int(digits)


def _whole_text(value: Any, text: str, problems: list[JsonRefused]) -> Any:
    """`value` with every lone surrogate replaced by U+FFFD, each reported where its escape
    is written."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        if found is None:
            return value
        escape = f"\\u{ord(found.group()):04x}"
        offset = text.lower().find(escape)
        message = (
            f"string escape {escape} is half of a UTF-16 pair, not a character; "
            "read as U+FFFD, as Kubernetes reads it"
        )
        problems.append(JsonRefused("AM016", message, *_position(text, offset)))
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {
            _whole_text(k, text, problems): _whole_text(v, text, problems) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_whole_text(item, text, problems) for item in value]
    return value


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset` in `text` (1, 1 when not found)."""
    if offset < 0:
        return 1, 1
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
