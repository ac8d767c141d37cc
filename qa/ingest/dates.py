"""Dates in news text: datelines, publication dates, and the year when a dateline omits it."""

from __future__ import annotations

import datetime as dt
import re

MONTHS_EN = (
    "january february march april may june july august september october november december"
).split()
MONTHS_RU = ("январ феврал март апрел ма июн июл август сентябр октябр ноябр декабр").split()
_MON_EN = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
_MON_RU = r"(января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
# Datelines also abbreviate months: "MOSCOW, Jan 26 (Reuters) -", "МОСКВА, 26 янв — РИА Новости."
_ABBR = dict(
    jan=1, feb=2, mar=3, apr=4, jun=6, jul=7, aug=8, sep=9, sept=9, oct=10, nov=11, dec=12,
    янв=1, фев=2, мар=3, апр=4, июн=6, июл=7, авг=8, сен=9, сент=9, окт=10, ноя=11, нояб=11, дек=12,
)  # fmt: skip
_DL_MON_EN = rf"({_MON_EN[1:-1]}|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?(?![a-z])"
_DL_MON_RU = (
    rf"({_MON_RU[1:-1]}|янв|фев|мар|апр|июн|июл|авг|сент|сен|окт|нояб|ноя|дек)\.?(?![а-яё])"
)
# "MOSCOW, January 26 - RIA Novosti", "MOSCOW, February 14. /TASS/", "МОСКВА, 26 января - РИА"
_DATELINE_EN = re.compile(
    rf"^([A-ZА-ЯЁ][A-ZА-ЯЁ .'-]{{1,40}}),\s+{_DL_MON_EN}\s+(\d{{1,2}})(?:,\s*(\d{{4}}))?"
)
_DATELINE_RU = re.compile(
    rf"^([A-ZА-ЯЁ][A-ZА-ЯЁ .'-]{{1,40}}),\s+(\d{{1,2}})\s+{_DL_MON_RU}(?:\s+(\d{{4}}))?"
)
# "14:10, 16 February" / "14:10, 16 февраля 2022"
_TIME_LINE = re.compile(
    rf"^\s*\d{{1,2}}:\d\d,?\s+(\d{{1,2}})\s+({_MON_EN[1:-1]}|{_MON_RU[1:-1]})(?:\s+(\d{{4}}))?\s*$",
    re.IGNORECASE,
)
_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.((?:19|20)\d\d)(?![\d])")
_FULL_EN = re.compile(rf"{_MON_EN}\s+(\d{{1,2}}),\s*((?:19|20)\d\d)")
_FULL_RU = re.compile(rf"(\d{{1,2}})\s+{_MON_RU}\s+((?:19|20)\d\d)")
_YEAR_END = re.compile(r"(end of|late|в конце|конце)\s+((?:19|20)\d\d)", re.IGNORECASE)


def month_number(word: str) -> int | None:
    w = word.lower()
    if w in MONTHS_EN:
        return MONTHS_EN.index(w) + 1
    for i, stem in enumerate(MONTHS_RU):
        if w.startswith(stem):
            return i + 1
    return None


def _dateline_month(word: str) -> int | None:
    # Abbreviations first: month_number("мар") would take the stem of "мая" (May).
    return _ABBR.get(word.lower()) or month_number(word)


def is_time_line(line: str) -> bool:
    return bool(_TIME_LINE.match(line))


def dateline(paragraph: str) -> str | None:
    """The dateline at the start of a paragraph ("MOSCOW, January 26 - RIA Novosti.",
    "MOSCOW, February 14. /TASS/."), if any."""
    m = _DATELINE_EN.match(paragraph) or _DATELINE_RU.match(paragraph)
    if not m:
        return None
    end = re.search(r"[.]\s|$", paragraph[m.end() : m.end() + 60])
    line = paragraph[: m.end() + (end.start() if end else 0) + 1]
    agency = re.match(r"\s*/[^/\s][^/]{0,30}/\.?", paragraph[len(line) :])  # " /TASS/."
    return line + agency[0] if agency else line


def _valid(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _month_day(raw: str, body: list[str]) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) from a dateline, a time line, or a dd.mm.yyyy stamp."""
    for para in body[:3]:
        m = _DATELINE_EN.match(para)
        if m:
            return (int(m[4]) if m[4] else None, _dateline_month(m[2]), int(m[3]))
        m = _DATELINE_RU.match(para)
        if m:
            return (int(m[4]) if m[4] else None, _dateline_month(m[3]), int(m[2]))
    for line in raw.splitlines()[:40]:
        m = _TIME_LINE.match(line)
        if m:
            return (int(m[3]) if m[3] else None, month_number(m[2]), int(m[1]))
    m = _NUMERIC.search(raw)
    if m and _valid(int(m[3]), int(m[2]), int(m[1])):
        return (int(m[3]), int(m[2]), int(m[1]))
    return None


def mentioned_dates(text: str) -> list[dt.date]:
    """Full dates written in the text ("December 17, 2021", "26 января 2022", "26.01.2022")."""
    found = []
    for m in _FULL_EN.finditer(text):
        found.append(_valid(int(m[3]), month_number(m[1]), int(m[2])))
    for m in _FULL_RU.finditer(text):
        found.append(_valid(int(m[3]), month_number(m[2]), int(m[1])))
    for m in _NUMERIC.finditer(text):
        found.append(_valid(int(m[3]), int(m[2]), int(m[1])))
    return [d for d in found if d]


def infer_year(text: str, month: int, day: int) -> int | None:
    """The year of a dateline that lacks one, from the full dates the article mentions ("December
    17, 2021", "at the end of 2021"): the latest such year, or the next one when the dateline's
    day would fall before a date the article already speaks of. Bare years ("the positions of
    1997") are history, not evidence, so they are ignored; None when nothing tells."""
    full = [d for d in mentioned_dates(text) if d.year <= dt.date.today().year]
    ends = [int(m[2]) for m in _YEAR_END.finditer(text)]
    if not full and not ends:
        return None
    year = max([d.year for d in full] + ends)
    cand = _valid(year, month, day)
    later = cand is not None and any(d > cand for d in full)
    return year + 1 if later or year in ends else year


def publication_date(raw: str, body: list[str]) -> tuple[tuple[int | None, int, int] | None, bool]:
    """((year or None, month, day) or None, whether the year was inferred rather than read)."""
    md = _month_day(raw, body)
    if md is None:
        return None, False
    year, month, day = md
    if year is not None:
        return md, False
    return (infer_year(raw, month, day), month, day), True


def iso(year: int | None, month: int, day: int) -> str | None:
    d = _valid(year, month, day) if year else None
    return d.isoformat() if d else None


# ---- relative dates ("on Monday", "this week", "в понедельник") -----------------------------
WEEKDAYS_EN = "monday tuesday wednesday thursday friday saturday sunday".split()
_WEEKDAYS_RU = ("понедельник", "вторник", "сред", "четверг", "пятниц", "суббот", "воскресень")
_MONTHS_GEN_RU = (
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
).split()
_REL_EN = re.compile(
    r"\b(?:(?:on|last|this|next)\s+)?(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|\b(this week|last week|next week|yesterday|today|tomorrow|earlier this week)\b",
    re.IGNORECASE,
)
_REL_RU = re.compile(
    r"(?<!\w)(?:(?:в|во|в прошлый|в прошлую|в это|в эту|в этот)\s+)?"
    r"(понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье)(?!\w)"
    r"|(?<!\w)(на этой неделе|на прошлой неделе|на следующей неделе|вчера|сегодня|завтра)(?!\w)",
    re.IGNORECASE,
)


def _weekday_index(word: str) -> int:
    w = word.lower()
    if w in WEEKDAYS_EN:
        return WEEKDAYS_EN.index(w)
    return next(i for i, stem in enumerate(_WEEKDAYS_RU) if w.startswith(stem))


def human(d: dt.date, lang: str) -> str:
    """14 February 2022 / 14 февраля 2022."""
    if lang == "ru":
        return f"{d.day} {_MONTHS_GEN_RU[d.month - 1]} {d.year}"
    return f"{d.day} {MONTHS_EN[d.month - 1].capitalize()} {d.year}"


def relative_dates(text: str, published: str | None, lang: str) -> list[dict]:
    """Relative date expressions in ``text`` resolved against the article's date:
    [{"start", "end", "text", "date" (ISO day) or "from"/"to" (ISO week), "label"}].

    News writes in the past tense about the days just gone, so a weekday means its latest
    occurrence on or before the publication day ("on Monday" in a Monday article is that day).
    """
    if not published:
        return []
    try:
        base = dt.date.fromisoformat(published)
    except ValueError:
        return []
    out = []
    for m in (_REL_RU if lang == "ru" else _REL_EN).finditer(text):
        word = (m.group(1) or m.group(2)).lower()
        item = {"start": m.start(), "end": m.end(), "text": m.group(0)}
        if m.group(1):
            back = (base.weekday() - _weekday_index(word)) % 7
            day = base - dt.timedelta(days=back)
            item.update(date=day.isoformat(), label=human(day, lang))
        elif word in ("yesterday", "вчера", "today", "сегодня", "tomorrow", "завтра"):
            shift = {"yesterday": -1, "вчера": -1, "tomorrow": 1, "завтра": 1}.get(word, 0)
            day = base + dt.timedelta(days=shift)
            item.update(date=day.isoformat(), label=human(day, lang))
        else:
            shift = (
                -7
                if ("last" in word or "прошлой" in word)
                else 7
                if ("next" in word or "следующей" in word)
                else 0
            )
            monday = base - dt.timedelta(days=base.weekday()) + dt.timedelta(days=shift)
            sunday = monday + dt.timedelta(days=6)
            item.update(
                **{"from": monday.isoformat(), "to": sunday.isoformat()},
                label=f"{human(monday, lang)} – {human(sunday, lang)}",
            )
        out.append(item)
    return out
