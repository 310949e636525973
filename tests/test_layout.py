"""The layout the house style asks for, checked on the source itself: one package per stage, stages
that meet only at public names, and files and functions small enough to read in one sitting."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "themeassist"
README = Path(__file__).resolve().parents[1] / "README.md"
#: Top-level private helper modules and the public module (stage) they belong to.
HELPERS = {"_codebook_io": "codebook", "_codebook_parse": "codebook", "_codebook_resolve": "codebook",
           "_codebook_table": "codebook",
           "_csvread": "corpus", "_dates": "corpus"}
#: Private modules every stage may use (shared, small, no stage logic).
SHARED = {"themeassist._validation", "themeassist._schema", "themeassist._numeric"}
MAX_FILE_LINES, MAX_FUNCTION_LINES = 600, 80
FILES = sorted(SRC.rglob("*.py"))


def _module(path: Path) -> str:
    return ".".join(("themeassist", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")


def _stage(module: str) -> str:
    """The stage of a module: its package under themeassist, or the public module it helps."""
    part = module.split(".")[1] if "." in module else ""
    return HELPERS.get(part, part)


def _private(module: str, name: str | None = None) -> bool:
    parts = module.split(".")[1:] + ([name] if name else [])
    return any(p.startswith("_") and not p.startswith("__") for p in parts)


def _cross_stage_private_imports(path: Path) -> list[str]:
    here = _stage(_module(path))
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("themeassist"):
            imports = [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            imports = [(a.name, None) for a in node.names if a.name.startswith("themeassist")]
        else:
            continue
        for module, name in imports:
            if module == "themeassist" and name:  # from themeassist import _x
                module, name = f"themeassist.{name}", None
            if module in SHARED or _stage(module) == here or not _private(module, name):
                continue
            found.append(f"{path.relative_to(SRC)}:{node.lineno} imports {module}{'.' + name if name else ''}")
    return found


def _private_names_by_stage() -> dict[str, set[str]]:
    """Private methods and attributes each stage defines on its own classes (self._x = ..., def _x)."""
    names: dict[str, set[str]] = {}
    for path in FILES:
        own = names.setdefault(_stage(_module(path)), set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                own |= {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and n.name.startswith("_") and not n.name.startswith("__")}
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr.startswith("_")):
                own.add(node.attr)
    return names


def test_stages_meet_only_at_public_names() -> None:
    """No module imports another stage's private modules or names, nor reads a private attribute
    that another stage's classes define (on anything but ``self``)."""
    problems = [p for f in FILES for p in _cross_stage_private_imports(f)]
    by_stage = _private_names_by_stage()
    for path in FILES:
        here = _stage(_module(path))
        others = set().union(*(v for k, v in by_stage.items() if k != here)) - by_stage.get(here, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr in others
                    and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
                problems.append(f"{path.relative_to(SRC)}:{node.lineno} reads {ast.unparse(node)}")
    assert problems == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_files_and_functions_are_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") <= MAX_FILE_LINES, f"{path.relative_to(SRC)} has over {MAX_FILE_LINES} lines"
    long = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            n = (body[-1].end_lineno - body[0].lineno + 1) if body else 0
            doc = ast.get_docstring(node) or ""
            if n > MAX_FUNCTION_LINES and not re.search(r"longer than 80 lines", doc, re.IGNORECASE):
                long.append(f"{node.name} ({n} lines)")
    assert long == [], f"{path.relative_to(SRC)}: functions over {MAX_FUNCTION_LINES} lines without a reason"


def test_readme_layout_names_every_package() -> None:
    section = README.read_text(encoding="utf-8").split("## Layout", 1)[1].split("\n## ", 1)[0]
    packages = sorted(p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").is_file())
    missing = [p for p in packages if f"`{p}/`" not in section]
    assert missing == []
