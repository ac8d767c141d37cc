"""The shape of the package: the public API, no import cycles, small modules, lazy imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "qa"
MAX_LINES = 300


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The qa modules a file imports (module-level or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        out |= {n for n in names if n in modules}
    return out


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    mods = set(files)
    return {m: _imports(p, mods) - {m} for m, p in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt]
            if nxt not in state and (found := visit(nxt, path + [nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_inside_qa():
    graph = import_graph()
    # A package's __init__ that imports its own submodules is not a cycle of ours.
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not m.startswith(d + ".")}
    assert find_cycle(graph) is None


@pytest.mark.parametrize("folder", ["qa", "bench"])
def test_no_module_over_300_lines(folder):
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / folder).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_public_api():
    import qa

    assert set(qa.__all__) == {"Pipeline", "build", "add", "Settings", "Answer", "QAError"}
    for name in qa.__all__:
        assert getattr(qa, name).__name__ == name
    with pytest.raises(AttributeError):
        qa.nothing_here  # noqa: B018


def test_only_web_imports_gradio():
    users = {
        _module_name(p)
        for p in PKG.rglob("*.py")
        if "import gradio" in p.read_text(encoding="utf-8")
    }
    assert users <= {"qa.web.app"}


def test_cli_import_is_light():
    """`qa --help` and the CLI module must not pull in the models or the web stack."""
    code = (
        "import sys, qa.cli; heavy = {'torch', 'transformers', 'sentence_transformers', "
        "'gradio', 'spacy', 'natasha', 'faiss', 'psycopg', 'dask'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
