"""Resource names: deterministic, DNS-1123, at most 63 characters, collision-free.

Policy foo/jwt-example, target httpbin  ->  jwt-example-httpbin
a 70-character name                    ->  its first 54 characters + "-" + 8 hex digits
"""

from __future__ import annotations

import hashlib
import re

MAX_LENGTH = 63
_INVALID = re.compile(r"[^a-z0-9-]+")


def dns_label(*parts: str) -> str:
    """Parts joined with `-`, lowercased, invalid characters replaced, shortened with a hash."""
    raw = "-".join(p for p in parts if p)
    name = _INVALID.sub("-", raw.lower()).strip("-") or "policy"
    name = re.sub("-{2,}", "-", name)
    if len(name) <= MAX_LENGTH:
        return name
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{name[: MAX_LENGTH - 9].rstrip('-')}-{digest}"


class NameBook:
    """Hands out names unique per (kind, namespace), against existing resources too."""

    def __init__(self, taken: set[tuple[str, str, str]]) -> None:
        self._taken = set(taken)

    def claim(self, kind: str, namespace: str, wanted: str) -> str:
        """`wanted`, or `wanted-2`, `wanted-3`, ... when it is taken."""
        name, counter = wanted, 1
        while (kind, namespace, name) in self._taken:
            counter += 1
            name = dns_label(wanted, str(counter))
        self._taken.add((kind, namespace, name))
        return name
