"""Loading a corpus folder (qa.ingest.corpus): .md front matter, JSON sidecars, unreadable
files reported as problems, legacy encodings, ignored files, deterministic ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import QAError
from qa.ingest import corpus


def write(folder: Path, name: str, data: str | bytes) -> Path:
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


MD = """---
title: "Грушко: следующий этап начнется после получения ответов"
outlet: Интерфакс
published: 2022-01-26
url: https://example.com/grushko
language: ru
---
# Грушко: следующий этап начнется после получения ответов

Замминистра иностранных дел Александр Грушко заявил, что Москва ждет письменного ответа.

Следующий этап наступит, когда будут получены ответы.
"""


def test_markdown_front_matter(tmp_path):
    write(tmp_path, "notes/a.md", MD)
    (art,), problems = corpus.load(tmp_path)
    assert problems == []
    assert art.path == "notes/a.md"
    assert art.title == "Грушко: следующий этап начнется после получения ответов"
    assert art.outlet == "Interfax"
    assert art.published == "2022-01-26"
    assert art.url == "https://example.com/grushko"
    assert art.lang == "ru"
    assert "---" not in art.text and "outlet:" not in art.text and "published:" not in art.text
    assert "Александр Грушко заявил, что Москва ждет письменного ответа." in art.text


def test_markdown_heading_not_duplicated(tmp_path):
    """A leading "# Title" equal to the front matter title is the title, as an <h1> is in HTML:
    it must not reappear (with its "#") as the first body paragraph."""
    write(tmp_path, "a.md", MD)
    (art,), _ = corpus.load(tmp_path)
    assert art.text.count("следующий этап начнется после получения ответов") == 1
    assert "# " not in art.text


def test_sidecar_overrides_page(tmp_path):
    write(
        tmp_path,
        "a.txt",
        "Lavrov says the answer is negative for Russia\n\n"
        "MOSCOW, February 14. /TASS/. The answer is negative, Lavrov said.\n",
    )
    side = {
        "title": "Sidecar title wins",
        "outlet": "Рейтер",
        "published": "2021-03-04",
        "url": "https://example.com/x",
        "translation_of": "en/b.txt",
        "ignored": 1,
    }
    write(tmp_path, "a.json", json.dumps(side, ensure_ascii=False))
    (art,), problems = corpus.load(tmp_path)
    assert problems == []
    assert art.title == "Sidecar title wins"
    assert art.text.startswith("Sidecar title wins\n\n")
    assert "The answer is negative, Lavrov said." in art.text
    assert art.outlet == "Reuters"
    assert (art.published, art.date_uncertain) == ("2021-03-04", False)
    assert art.url == "https://example.com/x"
    assert art.translation_of == "en/b.txt"


def test_sidecar_change_changes_content_hash(tmp_path):
    write(tmp_path, "a.txt", "Lavrov says the answer is negative for Russia\n\nText here.\n")
    write(tmp_path, "a.json", '{"title": "One"}')
    (a1,), _ = corpus.load(tmp_path)
    write(tmp_path, "a.json", '{"title": "Two"}')
    (a2,), _ = corpus.load(tmp_path)
    assert a1.id == a2.id and a1.content_hash != a2.content_hash


def test_unsafe_sidecar_url_dropped(tmp_path):
    write(tmp_path, "a.txt", "Some title of an article here\n\nBody text.\n")
    write(tmp_path, "a.json", '{"url": "javascript:alert(1)"}')
    (art,), _ = corpus.load(tmp_path)
    assert art.url is None


GOOD = "Lavrov met Blinken in Geneva for talks\n\nLavrov and Blinken held talks in Geneva.\n"


@pytest.mark.parametrize(
    "name,data",
    [
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8),
        ("nul.txt", b"Lavrov said\x00\x00\x00 something"),
        ("undecodable.txt", bytes([0xC0, 0x98, 0xFF, 0x98, 0x81]) * 200),
        ("chrome-only.txt", "Войти\n\n2072\n0\n- Share on Facebook\n"),
        ("empty.md", ""),
        ("bad-sidecar.txt", GOOD),
    ],
)
def test_unreadable_files_are_problems(tmp_path, name, data):
    write(tmp_path, "good.txt", GOOD)
    write(tmp_path, name, data)
    if name == "bad-sidecar.txt":
        write(tmp_path, "bad-sidecar.json", "{not json")
    articles, problems = corpus.load(tmp_path)
    assert [a.path for a in articles] == ["good.txt"]
    assert [p.path for p in problems] == [name]
    assert problems[0].message.strip() and "\n" not in problems[0].message


def test_random_garbage_is_a_problem(tmp_path):
    """Bytes that decode as cp1251 only by accident (no NUL, no undefined byte) are still not
    an article: indexing them would answer questions with mojibake."""
    import random

    rnd = random.Random(0)
    junk = bytes(rnd.choice([b for b in range(1, 256) if b != 0x98]) for _ in range(4000))
    write(tmp_path, "good.txt", GOOD)
    write(tmp_path, "junk.txt", junk)
    articles, problems = corpus.load(tmp_path)
    assert [a.path for a in articles] == ["good.txt"]
    assert [p.path for p in problems] == ["junk.txt"]


def test_cp1251_russian_is_read(tmp_path):
    text = "Лавров провел переговоры в Женеве\n\nЛавров и Блинкен провели переговоры в Женеве.\n"
    write(tmp_path, "legacy.txt", text.encode("cp1251"))
    (art,), problems = corpus.load(tmp_path)
    assert problems == []
    assert art.lang == "ru"
    assert "Лавров и Блинкен провели переговоры в Женеве." in art.text


def test_hidden_and_other_files_ignored(tmp_path):
    write(tmp_path, "good.txt", GOOD)
    write(tmp_path, ".hidden.txt", GOOD)
    write(tmp_path, ".git/x.txt", GOOD)
    write(tmp_path, "image.png", b"\x89PNG\x00")
    write(tmp_path, "meta.json", "{}")
    articles, problems = corpus.load(tmp_path)
    assert [a.path for a in articles] == ["good.txt"] and problems == []


def test_empty_corpus_dir(tmp_path):
    assert corpus.load(tmp_path) == ([], [])


def test_missing_corpus_dir(tmp_path):
    with pytest.raises(QAError, match="--corpus"):
        corpus.load(tmp_path / "nope")


def test_ids_are_deterministic(tmp_path):
    write(tmp_path, "sub/a.txt", GOOD)
    (a1,), _ = corpus.load(tmp_path)
    (a2,), _ = corpus.load(tmp_path)
    assert a1 == a2
    assert a1.id == corpus.article_id("sub/a.txt")
