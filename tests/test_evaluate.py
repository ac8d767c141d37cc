"""`qa eval`: SQuAD normalization extended for Russian, pairing of parallel files by question
id, and a tiny end-to-end run on the real model (deterministic: same inputs, same numbers)."""

from __future__ import annotations

import json

import pytest

from qa.eval import run as evaluate_run
from qa.eval import squad as evaluate

EN = {
    "version": "1.1",
    "data": [
        {
            "title": "t",
            "paragraphs": [
                {
                    "context": "The Panthers defense gave up just 308 points. Kawann Short led the team.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "How many points did the Panthers defense surrender?",
                            "answers": [{"answer_start": 34, "text": "308"}],
                        },
                        {
                            "id": "q2",
                            "question": "Who led the team?",
                            "answers": [{"answer_start": 46, "text": "Kawann Short"}],
                        },
                    ],
                },
                {
                    "context": "Lavrov and Blinken held talks in Geneva on January 21.",
                    "qas": [
                        {
                            "id": "q3",
                            "question": "Where did Lavrov and Blinken hold talks?",
                            "answers": [{"answer_start": 33, "text": "Geneva"}],
                        }
                    ],
                },
            ],
        }
    ],
}
RU = {
    "version": "1.1",
    "data": [
        {
            "title": "t",
            "paragraphs": [
                {
                    "context": "Лавров и Блинкен провели переговоры в Женеве 21 января.",
                    "qas": [
                        {
                            "id": "q3",
                            "question": "Где Лавров и Блинкен провели переговоры?",
                            "answers": [{"answer_start": 37, "text": "Женеве"}],
                        }
                    ],
                },
                {
                    "context": "\ufeffЗащита Пэнтерс уступила всего 308 очков. Кейван Шорт лидировал в команде.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "Сколько очков уступила защита Пэнтерс?",
                            "answers": [{"answer_start": 31, "text": "308"}],
                        },
                        {
                            "id": "q2",
                            "question": "Кто лидировал в команде?",
                            "answers": [{"answer_start": 41, "text": "Кейван Шорт"}],
                        },
                    ],
                },
            ],
        }
    ],
}


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


@pytest.fixture
def files(tmp_path):
    (tmp_path / "x.en.json").write_text(json.dumps(EN), encoding="utf-8")
    (tmp_path / "x.ru.json").write_text(json.dumps(RU, ensure_ascii=False), encoding="utf-8")
    return [tmp_path / "x.en.json", tmp_path / "x.ru.json"]


def test_parallel_files_pair_by_question_id(files):
    paragraphs, questions = evaluate.load_squad(files)
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


@pytest.mark.slow
def test_tiny_eval_end_to_end_is_deterministic(files, real_settings, tmp_path):
    s = real_settings.with_(quiet=True)
    runs = [
        evaluate_run.run(files, s, workdir=tmp_path / "w", log=lambda m: None) for _ in range(2)
    ]
    assert runs[0]["summary"] == runs[1]["summary"]
    mixed_en = runs[0]["summary"]["mixed|en|all"]
    assert mixed_en["n"] == 3 and mixed_en["R@1"] == 1.0
    assert runs[0]["summary"]["mixed|ru|all"]["R@1"] == 1.0
    assert {"en->ru|en|all", "ru->en|ru|all", "withheld|en|all"} <= set(runs[0]["summary"])
    table = evaluate_run.table(runs[0])
    assert "mixed" in table and "R@1" in table
