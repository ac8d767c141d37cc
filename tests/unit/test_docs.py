"""The docs stay true to the code: docs/cli.md is exactly what scripts/cli_docs.py generates
from the commands' --help, and the README stays short and links only to docs that exist."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_MAX_LINES = 220  # ~200 by the house style; depth goes to docs/*.md


def _cli_docs():
    spec = importlib.util.spec_from_file_location("cli_docs", ROOT / "scripts" / "cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_matches_help():
    cli_docs = _cli_docs()
    expected = cli_docs.render()
    current = cli_docs.OUT.read_text(encoding="utf-8") if cli_docs.OUT.exists() else ""
    assert current == expected, (
        "docs/cli.md is out of date with the commands' --help: "
        "run `.venv/bin/python scripts/cli_docs.py` and commit docs/cli.md"
    )


def test_readme_is_short():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= README_MAX_LINES, f"README.md has {n} lines; move depth into docs/*.md"


def test_readme_links_to_docs_that_exist():
    text = README.read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((docs/[^)#\s]+)", text))
    linked |= set(re.findall(r"\bdocs/[\w.-]+\.md\b", text))
    assert any(p.endswith(".md") for p in linked), "the README should point to docs/*.md"
    missing = sorted(p for p in linked if not (ROOT / p).exists())
    assert not missing, f"README.md links to missing files: {missing}"
