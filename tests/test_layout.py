"""The package layout: imports inside ``toolkit/`` only point down the data's path.

Every module is mapped to a layer (its subpackage, or ``pipeline`` / the top for
``cli``, ``__main__`` and the package itself). A module may import from its own
layer and from lower ones, never from a higher one; only the CLI knows typer.
Lazy imports inside functions count too: the files are read with ``ast``, not imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit"

# Lowest first: read -> normalize/segment -> align -> translate -> score -> review -> export -> train,
# the orchestration above them, and the command line on top.
LAYERS = ("core", "formats", "text", "align", "translate", "score", "review", "export", "train", "pipeline", "jobs",
          "corpus", "top")
TOP = {"toolkit", "toolkit.cli", "toolkit.__main__"}
CLI_ONLY = ("toolkit.cli", "typer")  # what only the top may import


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = ["toolkit", *path.relative_to(package).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The layer of a toolkit module (dotted name); KeyError for one the table does not place."""
    if module in TOP:
        return "top"
    first = module.split(".")[1]
    if first not in LAYERS or first == "top":
        raise KeyError(f"{module} is in no layer; add its subpackage to LAYERS in {Path(__file__).name}")
    return first


def imported_modules(tree: ast.AST, module: str, is_package: bool, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in ``tree``, relative ones resolved; ``from X import y``
    gives ``X.y`` when ``y`` is a submodule, else ``X``."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module
            for alias in node.names:
                sub = f"{name}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub, root) else name))
    return found


def _is_module(dotted: str, root: Path) -> bool:
    if not dotted.startswith("toolkit."):
        return False
    path = root.joinpath(*dotted.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def layout_violations(package: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(package.rglob("*.py")):
        module = module_name(path, package)
        here = layer_of(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in imported_modules(tree, module, path.name == "__init__.py", package):
            where = f"{path.relative_to(package.parent)}:{line}"
            if here != "top" and any(name == c or name.startswith(c + ".") for c in CLI_ONLY):
                problems.append(f"{where}: {module} imports {name} (only the CLI may)")
            if name != "toolkit" and not name.startswith("toolkit."):
                continue
            there = layer_of(name)
            if LAYERS.index(there) > LAYERS.index(here):
                problems.append(f"{where}: {module} ({here}) imports {name} ({there}), a higher layer")
    return problems


def test_every_module_has_a_layer():
    modules = [module_name(p) for p in PACKAGE.rglob("*.py")]
    assert len(modules) > 20
    for module in modules:
        layer_of(module)


def test_imports_only_point_down():
    assert layout_violations() == []


def test_only_the_cli_knows_typer():
    cli = [module_name(p) for p in PACKAGE.rglob("*.py")
           if "typer" in {n for _, n in imported_modules(ast.parse(p.read_text(encoding="utf-8")), module_name(p),
                                                         p.name == "__init__.py")}]
    assert cli == ["toolkit.cli"]


def _copy_package(tmp_path: Path) -> Path:
    copy = tmp_path / "toolkit"
    for path in PACKAGE.rglob("*.py"):
        target = copy / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


@pytest.mark.parametrize("module, source, problem", [
    ("core/records.py", "from toolkit.formats.writers import read_align\n", "a higher layer"),
    ("formats/writers.py", "def f():\n    from toolkit.score.metrics import SCORE_KEYS\n", "a higher layer"),
    ("text/segment.py", "from ..align import dp\n", "a higher layer"),
    ("review/session.py", "from toolkit import __version__\n", "a higher layer"),
    ("score/metrics.py", "import toolkit.pipeline\n", "a higher layer"),
    ("export/exports.py", "def f():\n    import typer\n", "only the CLI may"),
    ("pipeline.py", "from toolkit.cli import main\n", "only the CLI may"),
])
def test_an_upward_import_is_caught(tmp_path, module, source, problem):
    """The check can fail: a copy of the package with one bad import added (lazy or not) is refused."""
    copy = _copy_package(tmp_path)
    bad = copy / module
    bad.write_text(bad.read_text(encoding="utf-8") + "\n" + source, encoding="utf-8")
    problems = layout_violations(copy)
    assert problems and all(p.startswith(f"toolkit/{module}:") for p in problems), problems
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("module, source", [
    ("align/dp.py", "from toolkit.core.records import Bead\nfrom .embed import Embedder\n"),
    ("review/ui.py", "def f():\n    from toolkit.translate.cache import TranslationCache\n"),
    ("cli.py", "import typer\nfrom toolkit.train import finetune\n"),
])
def test_a_downward_import_is_fine(tmp_path, module, source):
    copy = _copy_package(tmp_path)
    (copy / module).write_text((copy / module).read_text(encoding="utf-8") + "\n" + source, encoding="utf-8")
    assert layout_violations(copy) == []
