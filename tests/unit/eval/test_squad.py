"""`qa eval` data (qa.eval.squad): SQuAD normalization extended for Russian, pairing of
parallel files by question id. The run on the real model: tests/e2e/test_eval.py."""

from __future__ import annotations

import pytest

from qa.eval import squad as evaluate


@pytest.mark.parametrize(
    "a, b",
    [
        ("«Минские соглашения»", "минские соглашения"),
        ("ёлка", "елка"),
        ("The Geneva", "geneva"),
        ("26 января — 2022", "26 января 2022"),
        ("„Аполлон“", "аполлон"),
    ],
)
def test_normalize_extended_for_russian(a, b):
    assert evaluate.normalize(a) == evaluate.normalize(b)


def test_f1():
    assert evaluate.f1("Kawann Short", "Short") == pytest.approx(2 / 3)
    assert evaluate.f1("308", "308") == 1.0
    assert evaluate.f1("", "308") == 0.0


def test_parallel_files_pair_by_question_id(squad_files):
    paragraphs, questions = evaluate.load_squad(squad_files)
    assert len(paragraphs) == 2 and all(set(v) == {"en", "ru"} for v in paragraphs.values())
    by = {(q.qid, q.lang): q for q in questions}
    assert by[("q3", "en")].story == by[("q3", "ru")].story
    assert set(by[("q2", "ru")].golds) == {"Kawann Short", "Кейван Шорт"}
    assert not any(p.startswith("\ufeff") for v in paragraphs.values() for p in v.values())


def test_not_squad_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(evaluate.QAError, match="SQuAD"):
        evaluate.load_squad([bad])
