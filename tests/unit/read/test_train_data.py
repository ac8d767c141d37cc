"""The reader's training data (qa.read.train_data) from the XQuAD dev split: article-level,
disjoint splits and examples that point at their answers (skipped without XQuAD)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from qa.eval import squad as evaluate
from qa.read import train_data

XQUAD = Path(__file__).resolve().parents[4] / "shared" / "bench" / "xquad"
FILES = {"en": XQUAD / "xquad-dev.en.json", "ru": XQUAD / "xquad-dev.ru.json"}
need_xquad = pytest.mark.skipif(not FILES["en"].exists(), reason="XQuAD dev split not present")


@need_xquad
def test_splits_are_article_level_and_disjoint():
    seen = {}
    for split in ("train", "tune", "heldout"):
        paras, pairs = train_data.load(FILES, split)
        assert pairs, split
        seen[split] = {p[0].qid for p in pairs}
        contexts = {p[0].context for p in pairs}
        for other, qids in seen.items():
            if other != split:
                assert not (qids & seen[split])
        seen[split + "_ctx"] = contexts
    assert not (seen["train_ctx"] & seen["heldout_ctx"])
    assert not (seen["train_ctx"] & seen["tune_ctx"])
    _, questions = evaluate.load_squad(list(FILES.values()))
    held = {q.qid for q in evaluate.in_split(questions, "heldout")}
    assert held == seen["heldout"]


@need_xquad
def test_training_examples_point_at_their_answers():
    paras, pairs = train_data.load(FILES, "train")
    exs = train_data.examples(paras, pairs[:40], random.Random(0))
    pos = [e for e in exs if e.start >= 0]
    neg = [e for e in exs if e.start < 0]
    assert len(pos) == 160 and len(neg) > 100  # 4 language pairings each
    answers = {a.answer for p in pairs[:40] for a in p}
    assert all(e.passage[e.start : e.end] in answers for e in pos)
    # a negative never contains the answer in its own language
    answer_of = {
        (q.question, lg): a.answer for p in pairs[:40] for q in p for a, lg in zip(p, ("en", "ru"))
    }
    for e in neg:
        lg = "ru" if any("а" <= ch <= "я" for ch in e.passage.lower()) else "en"
        assert answer_of[(e.question, lg)].lower() not in e.passage.lower()
