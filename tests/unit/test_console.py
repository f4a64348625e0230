"""The terminal console's short cut: what it prints is what rich prints, byte for byte."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from migrate.render.console import terminal_console

PIECE = st.one_of(
    st.sampled_from(["\n", "\t", "\r", "\x07", "\x08", "\x0b", "\x0c", "\x1b", " ", "[", "]"]),
    st.sampled_from([":smile:", "[bold]", "[/]", "界", "é", "\u200b", "\U0001f600", "  \n"]),
    st.text(st.characters(codec="utf-8"), max_size=8),
    st.text("abc xyz", min_size=30, max_size=90),
)
LINE = st.lists(PIECE, max_size=8).map("".join)

SIMPLE = st.fixed_dictionaries(
    {},
    optional={
        "style": st.sampled_from(["bold", "dim", "red", "bold red"]),
        "soft_wrap": st.just(True),
        "end": st.sampled_from(["\n", "", "\n\n", " "]),
        "overflow": st.just("ignore"),
        "no_wrap": st.just(True),
        "markup": st.just(False),
        "emoji": st.just(False),
        "highlight": st.booleans(),
    },
)
"""The calls the report makes: the short cut's ground."""

ANY = st.fixed_dictionaries(
    {},
    optional={
        "style": st.sampled_from(["bold", "dim", "red", "bold red"]),
        "soft_wrap": st.booleans(),
        "end": st.sampled_from(["\n", "", "\n\n", " "]),
        "overflow": st.sampled_from(["ignore", "fold", "crop", "ellipsis"]),
        "no_wrap": st.booleans(),
        "justify": st.sampled_from(["left", "right", "center", "full"]),
        "markup": st.booleans(),
        "emoji": st.booleans(),
        "highlight": st.booleans(),
        "width": st.integers(5, 50),
        "crop": st.booleans(),
        "new_line_start": st.booleans(),
    },
)
CALLS = st.one_of(SIMPLE, ANY)


def _thing(draw: Any) -> object:
    text = draw(LINE)
    if draw(st.booleans()):
        return text
    made = Text(text, style=draw(st.sampled_from(["", "bold", "dim"])))
    if draw(st.booleans()):
        made.append(draw(LINE), style="red")
    if draw(st.booleans()):
        made.overflow = draw(st.sampled_from(["fold", "ignore", "crop"]))
    if draw(st.booleans()):
        made.no_wrap = draw(st.booleans())
    return made


@st.composite
def prints(draw: Any) -> list[tuple[tuple[object, ...], dict[str, Any]]]:
    calls = []
    for _ in range(draw(st.integers(1, 4))):
        things = tuple(_thing(draw) for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))))
        calls.append((things, draw(CALLS)))
    return calls


def _printed(console: Console, calls: list[tuple[tuple[object, ...], dict[str, Any]]]) -> str:
    """What the console wrote, and the error that stopped it if any (bad markup)."""
    try:
        for things, options in calls:
            console.print(*[t.copy() if isinstance(t, Text) else t for t in things], **options)
    except Exception as exc:  # the same error from both is part of what is compared
        return f"{console.file.getvalue()}<{type(exc).__name__}: {exc}>"  # type: ignore[attr-defined]
    return str(console.file.getvalue())  # type: ignore[attr-defined]


@settings(max_examples=400, deadline=None)
@given(
    prints(),
    st.sampled_from([None, 20, 80, 200]),
    st.booleans(),
    st.sampled_from([None, "standard"]),
)
def test_printing_is_what_rich_prints(
    calls: list[tuple[tuple[object, ...], dict[str, Any]]],
    width: int | None,
    soft_wrap: bool,
    colours: str | None,
) -> None:
    """Any text, options and console set-up: the terminal console writes exactly what a
    rich Console with the same set-up writes (piped, coloured or forced to a terminal)."""
    made: dict[str, Any] = {"width": width, "soft_wrap": soft_wrap}
    if colours:
        made |= {"color_system": colours, "force_terminal": True}
    ours = terminal_console(file=io.StringIO(), **made)
    theirs = Console(markup=False, emoji=False, file=io.StringIO(), **made)
    assert _printed(ours, calls) == _printed(theirs, calls)


def test_the_short_cut_is_taken_for_plain_piped_lines() -> None:
    """Piped, soft-wrapped: a line of text does not go through rich's layout (the reason
    for the short cut), and comes out as the text itself."""
    console = terminal_console(file=io.StringIO(), soft_wrap=True, width=20)
    rendered: list[object] = []
    original = console.render

    def render(*args: Any, **options: Any) -> Any:
        rendered.append(args)
        return original(*args, **options)

    console.render = render  # type: ignore[method-assign]
    console.print(Text("a line longer than the width of twenty", style="bold"))
    console.print("[bold]not markup[/] \x07bell")
    assert rendered == []
    assert console.file.getvalue() == (  # type: ignore[attr-defined]
        "a line longer than the width of twenty\n[bold]not markup[/] bell\n"
    )
    console.print("a\ttab")
    assert len(rendered) == 1
