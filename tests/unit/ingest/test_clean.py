"""Chrome stripping and metadata (qa.ingest.clean): the real scraped seed pages (their text,
no model), then Russian datelines. HTML pages: test_html.py; loading files, front matter,
sidecars and unreadable files: test_corpus.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qa.ingest import clean, corpus

ROOT = Path(__file__).resolve().parents[3]
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
