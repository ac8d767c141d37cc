"""End-to-end: the onnx engine (ONNX Runtime on e5's layers, fp16 word embeddings) against the
torch reference (sentence-transformers on the same e5 folder).

Indexes built by one engine are queried by the other (one model id), so the vectors must agree
(cosine >= 0.999) on real questions and passages in both languages, and retrieval must not
change. The damaged-graph tests work on a private copy of the model cache, never the user's.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import pipeline
from qa.config import Settings
from qa.embed import e5export, onnx_e5, onnx_export
from qa.embed.embedder import Embedder
from qa.errors import ModelError
from qa.ingest import chunker, corpus

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
XQUAD = Path("/work/shared/bench/xquad")
SEED = json.loads((FIXTURES / "seed_questions.json").read_text(encoding="utf-8"))["questions"]
MIN_COSINE = 0.999
EDGE = ["", "?", "ёлка", "Путин met Biden", "😉", "Кто победил?", "Sanctions?"]


def _xquad(lang: str) -> list[dict]:
    path = XQUAD / f"xquad-dev.{lang}.json"
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    return [p for article in data["data"] for p in article["paragraphs"]]


def _questions() -> list[str]:
    out = [q["question"] for q in SEED]
    for lang in ("en", "ru"):  # every 8th paragraph's questions: ~85 per language
        out += [qa["question"] for p in _xquad(lang)[::8] for qa in p["qas"]]
    # A pasted document: sentence-transformers truncates at 512 tokens; so must the engine.
    return out + EDGE + ["😉 Путин met Biden? " * 120]


def _passages() -> list[str]:
    articles, _ = corpus.load(ROOT / "corpus")
    sents = [s.text for a in articles for s in chunker.sentences(a)]
    out = list(sents)  # every corpus sentence, both languages
    for lang in ("en", "ru"):  # long paragraphs, some past 128 tokens
        out += [p["context"] for p in _xquad(lang)[::24]]
    whole = "\n\n".join(a.text for a in articles)
    return out + EDGE + [whole[:100_000]]  # past 512 tokens: truncation must agree


@pytest.fixture(scope="module")
def torch_embedder(model_cache):
    return Embedder(model_cache, engine="torch")


@pytest.fixture(scope="module")
def onnx_embedder(model_cache):
    return Embedder(model_cache, engine="onnx")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    assert a.shape == b.shape and a.dtype == b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    return (a * b).sum(1)


def test_query_vectors_agree(torch_embedder, onnx_embedder):
    texts = _questions()
    assert len(texts) > 200
    cos = _cosines(onnx_embedder.queries(texts), torch_embedder.queries(texts))
    worst = int(np.argmin(cos))
    assert cos.min() >= MIN_COSINE, (texts[worst][:80], float(cos.min()))


def test_passage_vectors_agree(torch_embedder, onnx_embedder):
    texts = _passages()
    assert len(texts) > 200
    cos = _cosines(onnx_embedder.passages(texts), torch_embedder.passages(texts))
    worst = int(np.argmin(cos))
    assert cos.min() >= MIN_COSINE, (texts[worst][:80], float(cos.min()))


def test_prompts_applied_once(onnx_embedder, torch_embedder):
    # A query must match the reference query vector, not the passage vector, and not a
    # doubled prompt.
    q = "Where did Lavrov and Blinken hold talks?"
    mine = onnx_embedder.queries([q])[0]
    assert mine @ torch_embedder.queries([q])[0] >= MIN_COSINE
    assert mine @ torch_embedder.queries(["query: " + q])[0] < mine @ torch_embedder.queries([q])[0]
    assert mine @ torch_embedder.passages([q])[0] < MIN_COSINE


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory, model_cache, torch_embedder, onnx_embedder):
    """Two indexes of a copy of corpus/: one built by each engine, each queried by its own."""
    root = tmp_path_factory.mktemp("engines")
    shutil.copytree(ROOT / "corpus", root / "corpus")
    out = {}
    for engine, embedder in (("torch", torch_embedder), ("onnx", onnx_embedder)):
        s = Settings(
            corpus=root / "corpus",
            index=root / f"index-{engine}",
            model_cache=model_cache,
            engine=engine,
            reader="typed",  # no span model: these compare retrieval only
            quiet=True,
        )
        pipeline.build(s, embedder=embedder)
        out[engine] = pipeline.Pipeline(s, embedder=embedder)
    return out


def _top5(pipe, vec, question: str) -> list[str]:
    query = dataclasses.replace(pipe.query(question), vec=vec)
    return [h.chunk.id for h in pipe.retrieve(query, limit=5)]


def test_onnx_built_index_retrieves_as_torch_built(pipelines):
    # Passage vectors agree to cosine 1.00000: with the same question vector, both indexes
    # must rank identically.
    ref, new = pipelines["torch"], pipelines["onnx"]
    for q in SEED:
        for vec in (ref.query(q["question"]).vec, new.query(q["question"]).vec):
            assert _top5(ref, vec, q["question"]) == _top5(new, vec, q["question"]), q["id"]


def test_onnx_questions_keep_retrieval(pipelines):
    # Question vectors agree with torch's to cosine > 0.99999: each engine, on its own index,
    # must return the same five passages in the same order for every seed question.
    ref, new = pipelines["torch"], pipelines["onnx"]
    differ = []
    for q in SEED:
        a = [h.chunk.id for h in ref.retrieve(ref.query(q["question"]), limit=5)]
        b = [h.chunk.id for h in new.retrieve(new.query(q["question"]), limit=5)]
        if a != b:
            differ.append((q["id"], a, b))
    assert not differ, differ


def _link_files(src: Path, dest: Path) -> None:
    """dest: a real folder of links to src's files, so that deleting in it spares src."""
    dest.mkdir(parents=True)
    for f in src.iterdir():
        (dest / f.name).symlink_to(f, target_is_directory=f.is_dir())


def _private_cache(tmp_path: Path, model_cache: Path) -> Path:
    """A cache whose e5 folder links to the real one's, with its own copy of the ONNX files
    (symlinks would let the tests damage the user's)."""
    src = onnx_e5.ensure_exported(model_cache)
    cache = tmp_path / "cache"
    e5 = e5export.export_dir(model_cache)
    _link_files(e5, cache / "models" / e5.name)
    shutil.copytree(src.dir, onnx_e5.Files.of(cache).dir)
    return cache


def test_damaged_export_is_written_again(tmp_path, model_cache, torch_embedder):
    cache = _private_cache(tmp_path, model_cache)
    files = onnx_e5.Files.of(cache)
    graph = files.encoder(onnx_e5.runtime())
    with graph.open("r+b") as f:  # garbage over the header, same size
        f.write(b"\xffgarbage" * 4096)
    files.mapping.write_bytes(b"not an npz")
    texts = ["Переговоры прошли в Женеве.", "The talks were held in Geneva."]
    vecs = Embedder(cache, engine="onnx").passages(texts)  # exports again, then encodes
    assert (_cosines(vecs, torch_embedder.passages(texts)) >= MIN_COSINE).all()
    assert (e5export.export_dir(model_cache) / "model.safetensors").exists()  # the real one
    assert files.encoder(onnx_e5.runtime()).stat().st_size > 1_000_000


def test_unloadable_export_is_a_one_line_error(tmp_path, model_cache, monkeypatch):
    cache = _private_cache(tmp_path, model_cache)
    monkeypatch.setattr(
        onnx_export, "export_encoder", lambda folder, dest: dest.write_bytes(b"junk")
    )
    onnx_e5.Files.of(cache).encoder(onnx_e5.runtime()).write_bytes(b"junk")
    with pytest.raises(ModelError) as err:
        Embedder(cache, engine="onnx").passages(["text"])
    msg = str(err.value)
    assert "\n" not in msg and "qa build" in msg and str(onnx_e5.Files.of(cache).dir) in msg


def test_onnx_queries_import_no_torch(model_cache):
    code = f"""
import json, sys
from qa.embed.embedder import Embedder
vecs = Embedder({str(model_cache)!r}, engine="onnx").queries(["Кто победил?", "Who won?"])
heavy = {{"torch", "transformers", "sentence_transformers"}}
print(json.dumps({{"shape": list(vecs.shape), "heavy": sorted(
    m for m in sys.modules if m.split(".")[0] in heavy)}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got == {"shape": [2, 384], "heavy": []}
