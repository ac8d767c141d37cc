"""`qa ask` loads only what answering needs: no torch, transformers, sentence-transformers,
gradio or NER models (spaCy, natasha) with the default engine (ONNX Runtime) and the
default hybrid reader. These imports cost seconds of every cold start (bench/instant.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # the real model and corpus

HEAVY = ("torch", "transformers", "sentence_transformers", "gradio", "spacy", "natasha")

# Runs `qa ask` in a fresh interpreter, then lists the heavy modules it imported.
PROBE = """
import json, sys
from qa.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="qa", standalone_mode=False)
finally:
    heavy = {m.split(".")[0] for m in sys.modules} & set(json.loads(sys.stdin.read()))
    print(json.dumps(sorted(heavy)), file=sys.stderr)
"""


def imported_by(*args: str) -> tuple[list[str], str]:
    r = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(r.stderr.strip().splitlines()[-1]), r.stdout


def test_ask_imports_no_heavy_module(real_pipeline, real_settings):
    where = ["--index", str(real_settings.index), "--corpus", str(real_settings.corpus), "-q"]
    heavy, out = imported_by("ask", "When did the US send its written response?", "--json", *where)
    assert json.loads(out)["answer"]["text"]  # it did answer
    assert heavy == []


def test_ask_in_russian_imports_no_heavy_module(real_pipeline, real_settings):
    where = ["--index", str(real_settings.index), "--corpus", str(real_settings.corpus), "-q"]
    heavy, out = imported_by("ask", "Где прошли переговоры Лаврова и Блинкена?", *where)
    assert out.strip()
    assert heavy == []


def test_the_probe_sees_heavy_imports(real_pipeline, real_settings):
    """The torch engine does import torch: the probe can fail."""
    where = ["--index", str(real_settings.index), "-q"]
    code = ["ask", "Who met Putin?", *where]
    r = subprocess.run(
        [sys.executable, "-c", PROBE, *code],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        env={**os.environ, "QA_ENGINE": "torch"},
    )
    assert "torch" in json.loads(r.stderr.strip().splitlines()[-1])
