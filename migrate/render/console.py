"""The terminal: rich consoles that print what they are given as text, never as markup."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.control import strip_control_codes
from rich.segment import Segment
from rich.text import Text


def terminal_console(**options: Any) -> Console:
    """A rich Console (with rich's `options`) that reads no markup and no emoji codes in
    what it prints: a namespace `ns[/bad]` or a path `[link=...]` is printed as written.
    Control characters are the renderers' to escape (`migrate.escape.terminal`)."""
    return _Console(markup=False, emoji=False, **options)


class _Console(Console):
    """A rich Console that prints a line of text without rich's layout where the layout
    cannot change it: no colours (output piped, or colour switched off) and no wrapping
    (`soft_wrap`), one string or `Text` without tabs. Then the text is the line, with
    control codes stripped as rich strips them, handed to rich's own buffer, so writing,
    flushing, recording and a closed pipe go as rich does them. A report of thousands of
    lines spent half its time in that layout."""

    def print(
        self,
        *objects: Any,
        sep: str = " ",
        end: str = "\n",
        style: Any = None,
        justify: Any = None,
        overflow: Any = None,
        no_wrap: bool | None = None,
        emoji: bool | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        width: int | None = None,
        height: int | None = None,
        crop: bool = True,
        soft_wrap: bool | None = None,
        new_line_start: bool = False,
    ) -> None:
        line = self._plain(
            objects,
            justify=justify,
            overflow=overflow,
            no_wrap=no_wrap,
            emoji=emoji,
            markup=markup,
            soft_wrap=soft_wrap,
        )
        if line is None or width is not None or height is not None or new_line_start:
            super().print(
                *objects,
                sep=sep,
                end=end,
                style=style,
                justify=justify,
                overflow=overflow,
                no_wrap=no_wrap,
                emoji=emoji,
                markup=markup,
                highlight=highlight,
                width=width,
                height=height,
                crop=crop,
                soft_wrap=soft_wrap,
                new_line_start=new_line_start,
            )
            return
        with self:
            self._buffer.append(Segment(line + end))

    def _plain(
        self,
        objects: tuple[Any, ...],
        *,
        justify: Any,
        overflow: Any,
        no_wrap: bool | None,
        emoji: bool | None,
        markup: bool | None,
        soft_wrap: bool | None,
    ) -> str | None:
        """The text rich would print for `objects`, when it is the text itself; else None."""
        if (
            len(objects) != 1
            or self._color_system is not None
            or self._render_hooks
            or justify is not None
            or overflow not in (None, "ignore")
            or no_wrap is False
            or not (self.soft_wrap if soft_wrap is None else soft_wrap)
        ):
            return None
        (thing,) = objects
        if type(thing) is Text:
            if thing.overflow not in (None, "ignore") or thing.no_wrap is False:
                return None
            plain = thing.plain
        elif type(thing) is str:
            if markup or (markup is None and self._markup):
                return None
            if emoji or (emoji is None and self._emoji):
                return None
            plain = strip_control_codes(thing)
        else:
            return None
        return None if "\t" in plain else plain
