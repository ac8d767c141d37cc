"""Chrome stripping and metadata: the real scraped seed pages, then small synthetic inputs
(Russian datelines, .html, .md front matter, JSON sidecars, unreadable files)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qa.errors import QAError
from qa.ingest import clean, corpus

ROOT = Path(__file__).resolve().parents[1]
EN = ROOT / "corpus" / "en"


@pytest.fixture(scope="module")
def loaded():
    articles, problems = corpus.load(ROOT / "corpus")
    return {a.path: a for a in articles}, problems


@pytest.fixture(scope="module")
def en(loaded):
    return {p.split("/")[-1].split("_")[0]: a for p, a in loaded[0].items() if p.startswith("en/")}


def test_real_corpus_loads_without_problems(loaded):
    articles, problems = loaded
    assert problems == []
    assert len(articles) == 10
    assert sorted({a.lang for a in articles.values()}) == ["en", "ru"]
    assert len({a.id for a in articles.values()}) == 10


# Chrome seen on the seed pages: none of it may reach the cleaned text.
CHROME = {
    "000": [
        "Войти",
        "2072",
        "The rights to this material belong to",
        "The material is placed by the copyright holder",
        "The news mentions",
        "Do you want to leave a comment",
        "ПОДПИСКА НА НОВОСТИ",
        "Ежедневная рассылка",
        "Without carrot and stick",
        "Italy has ordered the first KF41 Lynx",
        "02.12 14:51",
        "11766",
    ],
    "001": [
        "All news",
        "©",
        "Alexei Nikolsky",
        "Russian Presidential Press and Information Office",
    ],
    "002": [
        "Sputnik International, 1920",
        "The latest news and stories from Russia",
        "Stay tuned for updates",
        "©",
        "Go to the mediabank",
        "Максим Блинов",
        "speaks to Duma lawmakers, January 26, 2022",
        "NATO soldiers of Croatia at the Training Range",
        "Croatia to Withdraw Its Forces From NATO",
        "A Russian radar station is seen in Lourdes",
        "Kremlin Says Moscow, Havana Have 'Synchronised Positions'",
        "State flags of Russia and Ukraine",
        "Pelosi Trying to Rush Through Ukraine Defense Bill",
        "Russia INF Treaty",
        "US Warns of ‘Strong Response’",
        "To participate in the discussion",
        "log in or register",
        "Заголовок открываемого материала",
    ],
    "003": ["All news"],
    "004": ["14:10, 16 February", "Share on Facebook", "Share on VK", "Share on Twitter"],
}


@pytest.mark.parametrize("name,chrome", sorted(CHROME.items()))
def test_chrome_is_stripped(en, name, chrome):
    text = en[name].text
    for bit in chrome:
        assert bit not in text, f"{bit!r} left in {en[name].path}"


@pytest.mark.parametrize("name", sorted(CHROME))
def test_no_chrome_lines_on_any_page(en, name):
    paragraphs = en[name].text.split("\n\n")
    for p in paragraphs:
        assert p.strip() == p and p, f"empty or padded paragraph {p!r}"
        assert not re.fullmatch(r"[-•·*\d\s.,:kK]+", p), f"counter line {p!r}"
        assert not p.startswith(("©", "Share on", "- Share")), p
        assert p.lower() not in {"войти", "all news", "update", "discussion", "log in"}
    # The English pages' chrome is where their Cyrillic was (login link, mailing list,
    # related headlines, a photographer's name): the articles themselves have none.
    assert not re.search(r"[а-яё]", en[name].text, re.I)


# Sentences of each article body that must survive cleaning, verbatim.
BODY = {
    "000": [
        "MOSCOW, January 26 - RIA Novosti. Russia's security will be reliably ensured under "
        "any circumstances, Russian Foreign Minister Sergei Lavrov said.",
        "In continuation of the discussions, Lavrov and Blinken held talks in Geneva on "
        "January 21.",
        "Lavrov noted that it would be right to make public Washington's response on security "
        "guarantees, will ask Blinken about it.",
    ],
    "001": [
        "MOSCOW, February 14. /TASS/. Russia will continue seeking answers from Western colleagues",
        "On January 26, the US and NATO handed over written responses to Russia",
        "but did indicate directions for further negotiations.",
    ],
    "002": [
        "The Russian Foreign Ministry laid out twin security proposals to the United States and "
        "NATO in December",
        "Russia expects to receive a formal written response to its security guarantee "
        "proposals from Washington soon, Foreign Minister Sergei Lavrov has said.",
        "Lavrov said.\n\nLavrov stressed that Moscow would continue to nip in the bud",
        "They promised [a written response] before the end of the week,",
        "Also Wednesday, Ukrainian Foreign Minister Dmytro Kuleba told reporters",
        "to try to resolve the frozen civil conflict in the country's east by force.",
    ],
    "003": [
        "MOSCOW, February 14. /TASS/. Washington’s response to Russian security guarantee "
        "proposals cannot satisfy Moscow",
        "On December 17, 2021, the Russian foreign ministry released a draft agreement",
        "but did indicate directions for further negotiations.",
    ],
    "004": [
        "Russia is ready for talks that the West offered to conduct on certain security issues",
        "We believe it’s a positive step and will be ready for this dialogue",
        "According to Lavrov, the draft is laid out on 10 pages.",
        "but set out areas for further talks.",
    ],
}


@pytest.mark.parametrize("name,sentences", sorted(BODY.items()))
def test_body_is_kept(en, name, sentences):
    for s in sentences:
        assert s in en[name].text, f"{s!r} lost from {en[name].path}"


def test_body_is_kept_in_full(en):
    """Every article paragraph of the raw page (lines ending a sentence, past the title) is in
    the cleaned text: cleaning drops chrome, never prose."""
    for name, art in en.items():
        raw = (EN / Path(art.path).name).read_text(encoding="utf-8")
        for tail in ("The rights to this material", "To participate in the discussion"):
            raw = raw.split(tail)[0]
        for line in raw.splitlines():
            line = line.strip()
            if len(line) < 80 or not line.endswith((".", '"', "”")) or line.startswith("©"):
                continue
            if any(bit in line for bit in CHROME[name]):
                continue  # a site tagline or a stamped caption, not prose
            assert line in art.text, f"{art.path}: lost {line[:70]!r}"


TITLES = {
    "000": "Foreign Minister Lavrov: Russia's security will be reliably ensured under any "
    "circumstances",
    "001": "Russia will continue seeking West’s answers to Moscow's security questions — Lavrov",
    "002": "Moscow Won't Sit Idly By, Will Take Necessary Measures if Security Proposals "
    "Rejected, Lavrov Says",
    "003": "US response to security guarantee proposals cannot satisfy Russia — Lavrov",
    "004": "Russia is ready for security talks with West if they don’t scuttle Russia’s demands",
}
OUTLETS = {"000": "RIA Novosti", "001": "TASS", "002": "Sputnik", "003": "TASS", "004": "TASS"}
# (published, date_uncertain): a dateline without a year has an inferred year, so it is flagged.
DATES = {
    "000": ("2022-01-26", True),  # "MOSCOW, January 26 - RIA Novosti" + "At the end of 2021"
    "001": ("2022-02-14", True),  # "MOSCOW, February 14. /TASS/."
    "002": ("2022-01-26", False),  # the "26.01.2022" stamp
    "003": ("2022-02-14", True),  # "MOSCOW, February 14. /TASS/." + "December 17, 2021"
    "004": ("2022-02-16", True),  # "14:10, 16 February"
}


@pytest.mark.parametrize("name", sorted(TITLES))
def test_real_metadata(en, name):
    art = en[name]
    assert art.title == TITLES[name]
    assert art.text.startswith(TITLES[name] + "\n\n")
    assert art.text.count(TITLES[name]) == 1
    assert art.outlet == OUTLETS[name]
    assert (art.published, art.date_uncertain) == DATES[name]
    assert art.lang == "en"
    assert art.translation_of is None


@pytest.mark.parametrize("name", sorted(TITLES))
def test_dates_without_the_rest_of_the_corpus(tmp_path, name):
    """A page read alone gets its year from its own text, or none: never a wrong one."""
    src = EN / next(p.name for p in EN.iterdir() if p.name.startswith(name))
    (tmp_path / src.name).write_bytes(src.read_bytes())
    (art,), problems = corpus.load(tmp_path)
    assert problems == []
    assert art.published in (DATES[name][0], None)
    if name in ("000", "002", "003"):  # the year is on the page
        assert art.published == DATES[name][0]


def test_russian_translations_metadata(loaded, en):
    articles, _ = loaded
    for path, art in articles.items():
        if not path.startswith("ru/"):
            continue
        side = json.loads((ROOT / "corpus" / path).with_suffix(".json").read_text())
        assert art.lang == "ru"
        assert art.title == side["title"]
        assert art.text.startswith(side["title"] + "\n\n")
        assert art.published == side["published"] and not art.date_uncertain
        assert art.translation_of == side["translation_of"]
        original = en[Path(path).name.split("_")[0]]
        assert art.outlet == original.outlet  # "РИА Новости" -> "RIA Novosti", "ТАСС" -> "TASS"
        assert art.published == original.published


# ---- synthetic inputs ----------------------------------------------------------------------


def write(folder: Path, name: str, data: str | bytes) -> Path:
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


RU_PAGE = (
    "Войти\n\n"
    "Лавров заявил о готовности России к диалогу с Западом\n\n"
    "1520\n"
    "МОСКВА, 26 января - РИА Новости. Россия готова к диалогу, заявил Лавров.\n\n"
    "В конце 2021 года Россия опубликовала проекты договора с США.\n\n"
    "Права на этот материал принадлежат\n"
    "Похожие новости: ничего интересного\n"
)


def test_russian_dateline():
    got = clean.extract(RU_PAGE)
    assert got.title == "Лавров заявил о готовности России к диалогу с Западом"
    assert got.body[0].startswith("МОСКВА, 26 января - РИА Новости. Россия готова")
    assert got.outlet == "RIA Novosti"
    assert "Войти" not in got.body and "1520" not in got.body
    assert not any("Права на этот материал" in p or "Похожие" in p for p in got.body)


def test_russian_dateline_loaded(tmp_path):
    write(tmp_path, "ru/a.txt", RU_PAGE)
    (art,), problems = corpus.load(tmp_path)
    assert problems == []
    assert art.lang == "ru"
    assert art.outlet == "RIA Novosti"
    assert (art.published, art.date_uncertain) == ("2022-01-26", True)  # "в конце 2021 года"


def test_russian_dateline_with_year(tmp_path):
    write(
        tmp_path,
        "a.txt",
        "Заголовок статьи о переговорах в Женеве\n\nМОСКВА, 26 января 2022 - "
        "РИА Новости. Лавров провел переговоры.\n",
    )
    (art,), _ = corpus.load(tmp_path)
    assert (art.published, art.date_uncertain) == ("2022-01-26", False)


def test_dateline_without_any_year_is_not_guessed(tmp_path):
    write(
        tmp_path,
        "a.txt",
        "Lavrov met Blinken in Geneva for talks\n\nMOSCOW, February 14. "
        "/TASS/. Lavrov met Blinken.\n",
    )
    (art,), _ = corpus.load(tmp_path)
    assert art.published is None
    assert art.outlet == "TASS"


HTML = """<!DOCTYPE html>
<html lang="en"><head>
<title>Lavrov: US response cannot satisfy Russia | Some Site</title>
<meta property="og:title" content="Lavrov: US response cannot satisfy Russia &amp; NATO">
<meta property="og:site_name" content="TASS">
<meta property="article:published_time" content="2022-02-14T12:30:00+03:00">
<meta property="og:url" content="https://tass.com/politics/1">
<script>var SCRIPT_MARKER = "document.write('Login')";</script>
<style>.STYLE_MARKER { color: red }</style>
</head><body>
<nav><a href="/">NAV_MARKER Home</a> <a href="/world">World</a></nav>
<header>HEADER_MARKER Subscribe</header>
<article>
<h1>Lavrov: US response cannot satisfy Russia &amp; NATO</h1>
<figure><img src="x.jpg"><figcaption>CAPTION_MARKER Sergey Lavrov</figcaption></figure>
<p>MOSCOW, February 14. /TASS/. Washington&rsquo;s response to Russian security proposals cannot satisfy Moscow, Foreign Minister Sergey Lavrov said.</p>
<p>"The answer to these questions is negative," he stressed.<br>It cannot satisfy us.</p>
</article>
<aside>ASIDE_MARKER Related news</aside>
<footer>FOOTER_MARKER (c) 2022</footer>
<script>console.log("SCRIPT2_MARKER")</script>
</body></html>
"""


def test_html_page(tmp_path):
    write(tmp_path, "page.html", HTML)
    (art,), problems = corpus.load(tmp_path)
    assert problems == []
    assert art.title == "Lavrov: US response cannot satisfy Russia & NATO"
    assert art.outlet == "TASS"
    assert (art.published, art.date_uncertain) == ("2022-02-14", False)
    assert art.url == "https://tass.com/politics/1"
    assert art.lang == "en"
    assert art.text.startswith(art.title + "\n\n")
    assert art.text.count("cannot satisfy Russia & NATO") == 1
    assert "Washington’s response to Russian security proposals cannot satisfy Moscow" in art.text
    assert '"The answer to these questions is negative," he stressed.' in art.text
    assert "It cannot satisfy us." in art.text
    assert "MARKER" not in art.text, art.text
    assert "<" not in art.text and "&amp;" not in art.text


def test_html_source_line_breaks_do_not_split_paragraphs(tmp_path):
    """In HTML a newline inside <p> is just a space; splitting there would cut sentences in two
    (the chunker ends a sentence at every paragraph break)."""
    page = HTML.replace("security proposals cannot", "security proposals\n    cannot")
    write(tmp_path, "page.html", page)
    (art,), _ = corpus.load(tmp_path)
    assert "Washington’s response to Russian security proposals cannot satisfy Moscow" in art.text


def test_html_without_meta_uses_h1(tmp_path):
    write(
        tmp_path,
        "p.htm",
        "<html><body><h1>Grushko says Moscow is waiting for answers</h1>"
        "<p>Moscow is waiting for written answers, Grushko said.</p></body></html>",
    )
    (art,), _ = corpus.load(tmp_path)
    assert art.title == "Grushko says Moscow is waiting for answers"
    assert "Moscow is waiting for written answers, Grushko said." in art.text


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
