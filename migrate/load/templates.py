"""Finding template directives (`{{ ... }}`, `{{-`, `{%`) in text, in time linear in its
length: a regular expression with a lazy `.*?` between `{{` and `}}` takes quadratic time on
a long line of `{{`."""

from __future__ import annotations


def template_at(text: str) -> int:
    """The offset of the first template directive in `text`, -1 when there is none: `{%`,
    `{{-`, or `{{` with `}}` after it on the same line (what `\\{\\{.*?\\}\\}|\\{\\{-|\\{%`
    finds first)."""
    found = [at for at in (text.find("{%"), text.find("{{-"), placeholder_at(text)) if at >= 0]
    return min(found, default=-1)


def placeholder_at(text: str) -> int:
    """The offset of the first `{{` that a `}}` follows on the same line, -1 when none does.

    Only the first `{{` of each line needs looking at: a `}}` after a later one is after the
    first too."""
    at = text.find("{{")
    while at >= 0:
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        if text.find("}}", at + 2, end) >= 0:
            return at
        at = text.find("{{", end)
    return -1
