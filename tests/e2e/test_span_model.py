"""The trained span reader on the real model: what it finds in real text, broken files, and
training targets on the real tokenizer. What ships and the training data without the model:
tests/unit/read/test_span_model.py and test_train_data.py."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from qa.read import span_model, train_data
from qa.read import train as train_reader
from qa.read.span_model import SpanModel

pytestmark = pytest.mark.slow

XQUAD = Path(__file__).resolve().parents[3] / "shared" / "bench" / "xquad"
FILES = {"en": XQUAD / "xquad-dev.en.json", "ru": XQUAD / "xquad-dev.ru.json"}
need_xquad = pytest.mark.skipif(not FILES["en"].exists(), reason="XQuAD dev split not present")


@pytest.fixture(scope="module")
def model(model_cache):
    # The torch engine (the reference): test_targets_land_on_the_answer_tokens reads its HF
    # tokenizer; the ONNX engine is checked against it in test_span_onnx.py. Its own e5
    # embeddings: the session's embedder runs on ONNX and has no torch layer to share.
    return SpanModel(model_cache, engine="torch")


@pytest.mark.slow
@pytest.mark.parametrize("content", [None, b"not a safetensors file", b"\x00" * 64])
def test_missing_or_broken_delta_is_a_one_line_error(tmp_path, embedder, model_cache, content):
    from qa.errors import QAError

    path = tmp_path / "reader.safetensors"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(QAError, match="qa train-reader") as err:
        SpanModel(model_cache, path, embeddings=embedder.embeddings).guess("Who?", ["Lavrov."])
    assert "\n" not in str(err.value)
    assert content is None or path.read_bytes() == content  # never touched


@pytest.mark.slow
@pytest.mark.parametrize(
    "question,passage,expected",
    [
        (
            "When did the foreign ministers meet?",
            "The foreign ministers met in Geneva on 21 January 2022 for ninety minutes.",
            "21 January 2022",
        ),
        (
            "Where did the foreign ministers meet?",
            "The foreign ministers met in Geneva on 21 January 2022 for ninety minutes.",
            "Geneva",
        ),
        (
            "Где встретились министры иностранных дел?",
            "Министры иностранных дел встретились в Женеве 21 января 2022 года.",
            "Женеве",
        ),
        (  # English question, Russian passage
            "How long did the talks last?",
            "Переговоры продолжались полтора часа и завершились без заявлений.",
            "полтора часа",
        ),
    ],
)
def test_finds_the_answer_span(model, question, passage, expected):
    (g,) = model.guess(question, [passage])
    assert passage[g.start : g.end].strip(" .,") == expected
    assert g.score > max((o[2] for o in g.others), default=-1e9)  # runners-up score lower


@pytest.mark.slow
def test_scores_compare_across_passages(model):
    """Trained with negatives: the passage that holds the answer outscores one that does not,
    and the one without prefers "no answer"."""
    q = "How many people were injured in the explosion?"
    with_answer = "Officials said 14 people were injured in the explosion at the port on Monday."
    without = "The port reopened on Wednesday after inspectors checked the cranes and warehouses."
    a, b = model.guess(q, [without, with_answer])
    assert (a.passage, b.passage) == (0, 1)
    assert with_answer[b.start : b.end] == "14"
    assert b.margin > a.margin and a.margin < 0


@pytest.mark.slow
@pytest.mark.parametrize("text", ["", "?", "😉", "ёлка " * 2000])
def test_odd_passages_give_offsets_inside_them(model, text):
    (g,) = model.guess("What is it?", [text])
    assert 0 <= g.start <= g.end <= len(text)


@pytest.mark.slow
@need_xquad
def test_targets_land_on_the_answer_tokens(model):
    _, tok = model._load()
    paras, pairs = train_data.load(FILES, "train")
    exs = [e for e in train_data.examples(paras, pairs[:30], random.Random(1)) if e.start >= 0]
    enc = span_model.encode(tok, [e.question for e in exs], [e.passage for e in exs])
    starts, ends = train_reader._targets(enc, exs)
    shift = len(span_model.P_PREFIX)
    for i, (e, s, t) in enumerate(zip(exs, starts, ends)):
        offs = enc["offset_mapping"][i].tolist()
        if s == 0:  # truncated: the answer lies past the last passage token kept
            kept = [b for sid, (_, b) in zip(enc.sequence_ids(i), offs) if sid == 1]
            assert max(kept) - shift < e.end
            continue
        assert 0 < s <= t
        got = e.passage[max(0, offs[s][0] - shift) : offs[t][1] - shift].strip()
        assert e.passage[e.start : e.end].strip() in got


@pytest.mark.slow
@need_xquad
def test_shared_targets_land_on_the_answer_tokens(model):
    """Stage 2's labels (qa.read.train_shared.token_targets) on the real tokenizer: the first
    and last token of every answer that survives truncation cover it and at most the
    punctuation glued to it ("(118)" is one token)."""
    from qa.read import train_shared

    _, tok = model._load()
    paras, pairs = train_data.load(FILES, "train")
    exs = [e for e in train_data.examples(paras, pairs[:30], random.Random(2)) if e.start >= 0]
    enc = span_model.encode(tok, [e.question for e in exs], [e.passage for e in exs])
    shift = len(span_model.P_PREFIX)
    found = 0
    for i, e in enumerate(exs):
        got = train_shared.token_targets(enc, i, e.start, e.end)
        if got is None:
            continue
        found += 1
        offs = enc["offset_mapping"][i].tolist()
        a, b = max(0, offs[got[0]][0] - shift), offs[got[1]][1] - shift
        answer, got_text = e.passage[e.start : e.end].strip(), e.passage[a:b].strip()
        assert answer in got_text and len(got_text) <= len(answer) + 2, (answer, got_text)
    assert found >= 0.9 * len(exs)
