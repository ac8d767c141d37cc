"""HTML intake: trafilatura reads the page, our rules add what it does not do (datelines,
Russian outlet names, years). The Russian pages in html_pages/ are written for these tests
(no annotated Russian set exists): RIA-, TASS- and regional-site layouts with menus, related
news, comments, cookie notices, captions and footers around a dated article."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.ingest import chunker, corpus, dates
from qa.ingest import html as htmltext

PAGES = Path(__file__).parent / "html_pages"

EXPECTED = {
    "ria_like.html": {
        "title": "Лавров: ответ США на предложения по безопасности Москву не устроит",
        "outlet": "RIA Novosti",
        "published": "2022-01-26",
        "url": "https://ria.ru/20220126/lavrov-1769512345.html",
        "author": None,
        "body": [
            "МОСКВА, 26 янв — РИА Новости. Ответ США на российские предложения по гарантиям "
            "безопасности не устроит Москву",
            "— сказал он, выступая на правительственном часе в Госдуме.",
            "Госсекретарь США Энтони Блинкен обещал передать его после переговоров в Женеве, "
            "которые прошли 21 января.",
            "Он добавил, что диалог с Вашингтоном продолжится на уровне экспертов.",
        ],
        "chrome": [
            "Мы используем файлы cookie",
            "Войти",
            "Происшествия",
            "Туризм",
            "14:10 26.01.2022",
            "2072",
            "Архивное фото",
            "Пресс-служба МИД России",
            "Одноклассники",
            "Читайте также",
            "В НАТО рассказали о сроках ответа",
            "Подписывайтесь на РИА Новости",
            "Иван_77",
            "давно пора было поставить вопрос ребром",
            "Чтобы принять участие в обсуждении",
            "Лента новостей",
            "Курс доллара на Мосбирже",
            "Сборная России по хоккею",
            "МИА «Россия сегодня»",
            "Роскомнадзор",
            "Политика конфиденциальности",
        ],
    },
    "tass_like.html": {
        "title": "Россия продолжит добиваться от Запада ответов на вопросы о безопасности — Лавров",
        "outlet": "TASS",
        "published": None,  # no structured date, a dateline without a year: see the corpus test
        "url": None,
        "author": None,
        "body": [
            "МОСКВА, 14 февраля. /ТАСС/. Россия продолжит добиваться от западных коллег ответов",
            "«Мы, развивая диалог по некоторым аспектам",
            "Министр напомнил, что российские предложения были переданы США и НАТО в декабре "
            "2021 года.",
            "Путин согласился с предложением министра продолжить работу на этом направлении.",
        ],
        "chrome": [
            "Поиск по сайту",
            "Происшествия",
            "14 февраля, 15:27",
            "Алексей Никольский",
            "Читайте также",
            "Песков: Кремль изучает ответы",
            "Теги:",
            "Поделиться",
            "Новости по теме",
            "Шольц прибыл в Киев",
            "Байден и Путин провели телефонный разговор",
            "Свидетельство о регистрации СМИ",
            "Все права защищены",
        ],
    },
    "regional_like.html": {
        "title": "В Петербурге открыли после ремонта мост через Обводный канал",
        "outlet": "Невские ведомости",
        "published": "2022-02-16",
        "url": None,
        "author": "Анна Смирнова",
        "body": [
            "Движение по Ново-Каменному мосту через Обводный канал открыли в среду утром",
            "Что изменится для водителей",
            "Стоимость работ составила 1,2 млрд рублей.",
            "все ограничения по времени соблюдались.",
        ],
        "chrome": [
            "На сайте используются cookie",
            "Новости Санкт-Петербурга и Ленинградской области",
            "Транспорт",
            "Афиша",
            "Просмотров",
            "Фото: пресс-служба КРТИ",
            "Метки:",
            "Подпишитесь на нашу рассылку",
            "Похожие записи",
            "Аэропорт Пулково изменил схему",
            "Полгода объезжали через Лиговский проспект",
            "велодорожки опять сделали узкие",
            "Добавить комментарий",
            "Свежие записи",
            "Эрмитаж покажет коллекцию",
            "Все права защищены",
        ],
    },
}


def read(name: str, root: Path = PAGES):
    article, _ = corpus.read_article(root, root / name)
    return article


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_russian_page_metadata(name):
    want, art = EXPECTED[name], read(name)
    assert art.title == want["title"]
    assert art.outlet == want["outlet"]
    assert art.published == want["published"]
    assert art.url == want["url"]
    assert art.author == want["author"]
    assert art.lang == "ru"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_russian_page_body_without_chrome(name):
    want, art = EXPECTED[name], read(name)
    for sentence in want["body"]:
        assert sentence in art.text, sentence
    for chrome in want["chrome"]:
        assert chrome not in art.text, chrome
    assert art.text.startswith(art.title + "\n\n")
    assert art.text.count(art.title) == 1  # the <h1> is not repeated as the first paragraph
    assert "<" not in art.text and "&" not in art.text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_offsets_index_the_cleaned_text(name):
    art = read(name)
    sents = chunker.sentences(art)
    chunks = chunker.chunks(art, sents, 3, 1)
    assert sents and chunks
    for x in [*sents, *chunks]:
        assert art.text[x.start : x.end] == x.text


def test_dateline_year_comes_from_the_corpus(tmp_path):
    """The TASS-like page has no structured date and its dateline no year: the year is the
    one nearest the corpus's other dated articles, flagged as uncertain."""
    for name in ("ria_like.html", "tass_like.html"):
        shutil.copy(PAGES / name, tmp_path / name)
    articles, problems = corpus.load(tmp_path)
    assert problems == []
    tass = next(a for a in articles if a.path == "tass_like.html")
    assert (tass.published, tass.date_uncertain) == ("2022-02-14", True)


def test_sidecar_wins_over_the_page(tmp_path):
    shutil.copy(PAGES / "ria_like.html", tmp_path / "a.html")
    (tmp_path / "a.json").write_text(
        '{"url": "https://example.org/saved", "outlet": "ТАСС", "published": "2022-01-27"}'
    )
    art = read("a.html", tmp_path)
    assert (art.url, art.outlet, art.published) == (
        "https://example.org/saved",
        "TASS",
        "2022-01-27",
    )


PLAIN = (
    "<html><head><title>Talks in Geneva</title></head><body><article><h1>Talks in Geneva</h1>"
    "<p>{dateline}Lavrov and Blinken held talks in Geneva on Friday, and both sides called "
    "the meeting useful but said that their positions remained far apart.</p>"
    "<p>The ministers agreed to keep talking and to exchange written proposals next week.</p>"
    "</article></body></html>"
)


@pytest.mark.parametrize(
    "dateline,url,outlet",
    [
        ("GENEVA, January 21. /TASS/. ", "https://example.com/world/talks", "TASS"),
        ("GENEVA, Jan 21 (Reuters) - ", None, "Reuters"),
        ("", "https://news.example.com/world/talks", "news.example.com"),
        ("", None, None),
    ],
)
def test_outlet_without_a_site_name(tmp_path, dateline, url, outlet):
    """A page that names no site: the dateline's agency, else the domain name."""
    (tmp_path / "p.html").write_text(PLAIN.format(dateline=dateline), encoding="utf-8")
    if url:
        (tmp_path / "p.json").write_text(f'{{"url": "{url}"}}')
    art = read("p.html", tmp_path)
    assert art.outlet == outlet
    assert art.title == "Talks in Geneva" and art.text.count("Talks in Geneva") == 1


@pytest.mark.parametrize(
    "title,first,site,want",
    [
        ("Лавров: ответ США - РИА Новости, 26.01.2022", [], "РИА Новости", "Лавров: ответ США"),
        ("The Guardian | Why the talks failed", [], "The Guardian", "Why the talks failed"),
        ("Lavrov: US response | TASS", ["Lavrov: US response"], None, "Lavrov: US response"),
        ("Talks - the second round", [], "Daily News", "Talks - the second round"),
        ("Путин met Biden 😉", [], None, "Путин met Biden 😉"),
    ],
)
def test_title_without_the_site_name(title, first, site, want):
    assert htmltext._title(title, first, site) == want


@pytest.mark.parametrize(
    "para,want",
    [
        ("МОСКВА, 26 янв — РИА Новости. Текст.", (None, 1, 26)),
        ("МОСКВА, 3 мар — РИА Новости. Текст.", (None, 3, 3)),
        ("МОСКВА, 3 мая — РИА Новости. Текст.", (None, 5, 3)),
        ("MOSCOW, Jan 26 (Reuters) - Russia said.", (None, 1, 26)),
        ("WASHINGTON, Sept. 3, 2021 (Reuters) - Text.", (2021, 9, 3)),
        ("BERLIN, Marching 3 - not a dateline", None),
    ],
)
def test_abbreviated_datelines(para, want):
    assert dates._month_day("", [para]) == want


@pytest.mark.parametrize(
    "source",
    [
        "",
        "?",
        "ёлка",
        "😉",
        "<p>Путин met Biden</p>",
        "<html><body><nav><a href=/>Главная</a> <a href=/x>Политика</a></nav>"
        "<footer>© 2022 Все права защищены</footer></body></html>",
    ],
)
def test_page_without_article_text_is_a_problem(tmp_path, source):
    (tmp_path / "p.html").write_text(source, encoding="utf-8")
    articles, problems = corpus.load(tmp_path)
    assert articles == [] and len(problems) == 1
    assert "no article text" in problems[0].message and "\n" not in problems[0].message


def test_fragment_and_long_page(tmp_path):
    (tmp_path / "frag.html").write_text(
        "<p>Путин встретился с Байденом в Женеве, где они говорили о безопасности.</p>"
    )
    (tmp_path / "long.html").write_text("<p>" + "Длинный текст статьи. " * 5000 + "</p>")
    articles, problems = corpus.load(tmp_path)
    assert problems == []
    frag, long = sorted(articles, key=lambda a: a.path)
    assert "встретился с Байденом в Женеве" in frag.text
    assert len(long.text) > 100_000 and long.lang == "ru"


def test_new_reader_rereads_html_but_not_text(tmp_path, monkeypatch):
    """The reader's version is part of an HTML article's content hash, so the next
    incremental build re-reads pages read by an older reader; text files keep their hash."""
    shutil.copy(PAGES / "tass_like.html", tmp_path / "t.html")
    (tmp_path / "n.txt").write_text("Lavrov met Blinken in Geneva\n\nThey talked for hours.\n")
    before = {a.path: a.content_hash for a in corpus.load(tmp_path)[0]}
    monkeypatch.setattr(htmltext, "READER", htmltext.READER + "-next")
    after = {a.path: a.content_hash for a in corpus.load(tmp_path)[0]}
    assert before["n.txt"] == after["n.txt"] and before["t.html"] != after["t.html"]
