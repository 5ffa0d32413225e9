"""The domain library's house rules, read from the code: no import loop anywhere in ``civicdata/``, no
Streamlit in it, and runtime modules never import the build."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "civicdata"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every civicdata module -> the civicdata modules it imports (at the top or inside a function)."""
    mods = {_module(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            for n in names:
                while n and n not in mods:
                    n = n.rpartition(".")[0]
                if n and n != mod and n.startswith("civicdata") and n != "civicdata":
                    graph[mod].add(n)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_loop_in_civicdata():
    loop = _cycle(import_graph())
    assert loop is None, "import loop: " + " -> ".join(loop or [])


def test_the_domain_library_never_imports_streamlit_and_runtime_never_imports_the_build():
    graph = import_graph()
    for path in ROOT.rglob("*.py"):
        assert "import streamlit" not in path.read_text(encoding="utf-8"), path
    for mod, deps in graph.items():
        if not mod.startswith("civicdata.build") and mod not in ("civicdata.cli", "civicdata.__main__"):
            assert not any(d.startswith("civicdata.build") for d in deps), f"{mod} imports the build: {deps}"


def test_the_pages_never_import_the_build():
    """The views and app.py read the bundle the build wrote; they never import the build itself."""
    for path in [ROOT.parent / "app.py", *(ROOT.parent / "views").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "civicdata.build" not in text and "from civicdata import build" not in text, path
