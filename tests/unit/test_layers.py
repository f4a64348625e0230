"""The floors of the package: each part of migrate/ (a folder, or a module at the top) imports
only from its own floor or lower ones, no parts import each other round a loop, no module
cycle exists at all, and only the top of the house imports a command. Imports inside
functions and under `if TYPE_CHECKING:` count like the others."""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "migrate"

FLOORS: list[tuple[str, ...]] = [
    # ground: values and helpers every stage uses
    ("findings", "codes", "exitcodes", "errors", "escape", "parallel", "progress", "memo"),
    # the output formats by name, which the configuration checks its `output` key against
    ("outputs",),
    # reading files into documents with origins
    ("load",),
    # schemas and webhook rules
    ("validate",),
    # alpha and beta models, the inventory, target resolution, Istio's releases; the
    # configuration file (config.py stays at the top of the package but reads its file with
    # load's YAML factory and checks --istio-version against model's table of releases, so it
    # stands on this floor)
    ("model", "config"),
    # one opened repository: documents, models and inventory together
    ("workspace",),
    # the request space and the proof; rewriting files byte for byte (neither needs the other)
    ("semantics", "rewrite"),
    # alpha to beta, proven, and the plan of file changes
    ("convert",),
    # one library entry point per command
    ("commands",),
    # output for people and programs
    ("render",),
    # the command line and the public library API
    ("cli", "__main__", "__init__"),
]
FLOOR = {part: level for level, parts in enumerate(FLOORS) for part in parts}
IMPORTERS_OF_COMMANDS = {"commands", "render", "cli", "__init__"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    base = PACKAGE.parent / relative
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import of a migrate module in `path`, wherever it stands."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "migrate":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            if module.split(".")[0] != "migrate":
                continue
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                yield node.lineno, submodule if _is_module(submodule) else module


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _edges() -> list[tuple[Path, int, str, str]]:
    """(file, line, importing module, imported module) for the whole package."""
    return [
        (path, line, _module_name(path), imported)
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, imported in _imports(path)
    ]


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(PACKAGE.parent)}:{line}"


def test_every_part_of_the_package_has_a_floor() -> None:
    """A new folder or top-level module gets a floor here, and no floor names a ghost."""
    found = {p.stem for p in PACKAGE.glob("*.py")}
    found |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert found == set(FLOOR)


def test_no_part_imports_from_a_higher_floor() -> None:
    """Each import goes down or stays on its floor."""
    upward = [
        f"{_where(path, line)}: {importer} (floor {FLOOR[_part(importer)]}) imports "
        f"{imported} (floor {FLOOR[_part(imported)]})"
        for path, line, importer, imported in _edges()
        if FLOOR[_part(imported)] > FLOOR[_part(importer)]
    ]
    assert not upward, "\n".join(upward)


def test_only_the_top_imports_a_command() -> None:
    """commands/ is imported by the command line, the renderers and the public API only."""
    wrong = [
        f"{_where(path, line)}: {importer} imports {imported}"
        for path, line, importer, imported in _edges()
        if _part(imported) == "commands" and _part(importer) not in IMPORTERS_OF_COMMANDS
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("unit", [_part, str], ids=["parts", "modules"])
def test_no_import_cycle(unit: Callable[[str], str]) -> None:
    """Neither parts (folders and top-level modules) nor single modules import each other
    round a loop."""
    graph: dict[str, set[str]] = {}
    for _, _, importer, imported in _edges():
        source, target = unit(importer), unit(imported)
        graph.setdefault(source, set())
        if source != target:
            graph[source].add(target)
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' imports '.join(reversed(exc.args[1]))}")
