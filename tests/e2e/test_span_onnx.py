"""The span reader on ONNX Runtime (qa.read.span_onnx) against the torch engine (the
reference): the same spans and logits on real EN/RU passages, the same token ids and offsets,
a damaged export rebuilt without touching the delta, and no torch imported to answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.embed import e5export
from qa.ingest import chunker
from qa.read import span_model, span_onnx, train_data
from qa.read.span_model import SpanModel

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
XQUAD = ROOT.parent / "shared" / "bench" / "xquad"
FILES = {"en": XQUAD / "xquad-dev.en.json", "ru": XQUAD / "xquad-dev.ru.json"}
need_xquad = pytest.mark.skipif(not FILES["en"].exists(), reason="XQuAD dev split not present")
ODD = ["", "?", "ёлка", "😉", "Путин met Biden", "a\u200bb\tc\n\nd  e", "ёлка " * 2000]
CORPUS_QUESTIONS = {
    "en": ["Who said that?", "When did the talks take place?", "What did Russia demand?"],
    "ru": ["Кто это заявил?", "Когда прошли переговоры?", "Чего потребовала Россия?"],
}


def xquad_cases(n: int = 20) -> list[tuple[str, list[str]]]:
    """A question with four passages: the answer's sentence, a window around it, a sentence
    without it, the whole paragraph (often cut at MAX_LEN), in the four EN/RU pairings."""
    _, pairs = train_data.load(FILES, "heldout")
    out = []
    for k, pair in enumerate(pairs[:n]):
        q, item = pair[k % 2].question, pair[(k // 2) % 2]
        s = item.sentences
        lo = next(i for i, (_, e) in enumerate(s) if e > item.start)
        far = s[(lo + 2) % len(s)]
        window = s[max(0, lo - 1)][0], s[min(len(s) - 1, lo + 1)][1]
        spans = [s[lo], window, far, (0, len(item.context))]
        out.append((q, [item.context[a:b] for a, b in spans]))
    return out


def corpus_cases() -> list[tuple[str, list[str]]]:
    """The corpus's own questions-to-be: four consecutive sentences of a real article."""
    out = []
    for lang, questions in CORPUS_QUESTIONS.items():
        for q, path in zip(questions, sorted((ROOT / "corpus" / lang).glob("*.txt"))):
            text = path.read_text(encoding="utf-8")
            spans = chunker.sentence_spans(text, lang)
            mid = len(spans) // 2
            out.append((q, [text[a:b] for a, b in spans[mid : mid + 4]]))
    return out


@pytest.fixture(scope="module")
def cases():
    return (xquad_cases() if FILES["en"].exists() else []) + corpus_cases()


@pytest.fixture(scope="module")
def exported(model_cache) -> Path:
    return span_model.ensure_exported(model_cache)


@pytest.fixture(scope="module")
def engines(model_cache, exported):
    return {e: SpanModel(model_cache, engine=e) for e in ("torch", "onnx")}


def test_onnx_finds_the_torch_spans_with_the_same_logits(engines, cases):
    assert sum(len(ps) for _, ps in cases) >= 100
    got = {e: [g for q, ps in cases for g in m.guess(q, ps)] for e, m in engines.items()}
    same = sum((a.start, a.end) == (b.start, b.end) for a, b in zip(got["torch"], got["onnx"]))
    diff = max(
        max(abs(a.score - b.score), abs(a.null - b.null)) for a, b in zip(got["torch"], got["onnx"])
    )
    assert same >= 0.99 * len(got["torch"]), f"{same}/{len(got['torch'])} spans agree"
    assert diff < 2e-2, f"largest logit difference {diff:.4f}"


def test_tokenizer_gives_transformers_ids_masks_and_offsets(engines, cases):
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(e5export.ready(engines["onnx"].cache)))
    reader = engines["onnx"]._reader()
    batches = [(q, ps) for q, ps in cases] + [("What is it?", ODD), ("Кто?", ODD[-1:])]
    batches += [("Где? " * 40, ["Женева."])]  # a long question: the passage keeps its tokens
    cut, pruned = 0, []
    for q, ps in batches:
        want = span_model.encode(hf, [q] * len(ps), ps)
        got = reader.encode(
            [span_model.Q_PREFIX + q] * len(ps), [span_model.P_PREFIX + p for p in ps]
        )
        for key in ("input_ids", "attention_mask", "offset_mapping"):
            assert got[key].tolist() == want[key].tolist(), (key, q)
        assert all(got.sequence_ids(i) == want.sequence_ids(i) for i in range(len(ps)))
        cut += got["input_ids"].shape[1] == span_model.MAX_LEN
        pruned.append(got.pruned)
    assert cut >= 3  # truncated passages were compared too
    assert sum(pruned) >= 20 and not all(pruned)  # both tokenizers (span_tokens) were compared


@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_broken_delta_is_one_line_and_left_alone(tmp_path, model_cache, engine):
    path = tmp_path / "reader.safetensors"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(span_model.QAError, match="qa train-reader") as err:
        SpanModel(model_cache, path, engine=engine).guess("Who?", ["Lavrov."])
    assert "\n" not in str(err.value) and path.read_bytes() == b"\x00" * 64


@pytest.fixture
def own_cache(tmp_path, model_cache) -> Path:
    """A cache of this test's own that shares the real e5 folder (not its exports)."""
    e5 = e5export.ready(model_cache)
    own = tmp_path / "models" / e5.name
    own.mkdir(parents=True)
    for f in e5.iterdir():  # links to its files in a folder of our own: deleting spares them
        (own / f.name).symlink_to(f, target_is_directory=f.is_dir())
    return tmp_path


def test_missing_and_damaged_exports_are_rebuilt(own_cache):
    delta_bytes = span_model.DELTA.read_bytes()
    graph = span_model.ensure_exported(own_cache)  # missing: exported
    ex = span_onnx.Export.of(own_cache, span_model.DELTA)
    assert graph == ex.onnx and ex.files.embeddings.exists() and ex.files.tokenizer.exists()
    q, ps = "Where did the foreign ministers meet?", ["The ministers met in Geneva on Friday."]
    first = SpanModel(own_cache, engine="onnx").guess(q, ps)

    ex.onnx.write_bytes(b"garbage")
    with open(ex.files.embeddings, "r+b") as f:
        f.truncate(1000)
    ex.files.tokenizer.unlink()
    again = SpanModel(own_cache, engine="onnx").guess(q, ps)
    assert again == first and ps[0][again[0].start : again[0].end] == "Geneva"
    assert span_model.DELTA.read_bytes() == delta_bytes
    assert not [p for p in ex.dir.iterdir() if p.name.startswith(".")]  # no temp files left


def test_answering_on_onnx_imports_no_torch(model_cache, exported):
    code = f"""
import json, sys
from qa.read.span_model import SpanModel
text = "The ministers met in Geneva on Friday."
(g,) = SpanModel({str(model_cache)!r}, engine="onnx").guess("Where did they meet?", [text])
heavy = {{"torch", "transformers", "sentence_transformers"}} & set(sys.modules)
print(json.dumps({{"heavy": sorted(heavy), "answer": text[g.start : g.end]}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res == {"heavy": [], "answer": "Geneva"}


def test_logits_are_float32_per_token(engines):
    reader = engines["onnx"]._reader()
    enc = reader.encode(["query: Who?"] * 2, ["passage: Lavrov.", "passage: Lavrov said so."])
    start, end = reader.logits(enc)
    assert start.shape == end.shape == enc["input_ids"].shape and start.dtype == np.float32
