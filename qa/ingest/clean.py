"""Scraped page text -> article body and metadata (title, outlet, publication date).

Pages arrive with site chrome: login links, view counters, share buttons, photo captions and
credits, "related news" headlines and comment lists. Rules here are line-based and generic
(no per-site templates), because the same chrome shapes recur across outlets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.ingest import dates

# A line made only of these words is chrome, whatever the site.
_CHROME_LINE = re.compile(
    r"^[-•·*\s]*("
    r"войти|log ?in|sign ?in|sign ?up|register|регистрация|all news|все новости|update|"
    r"обновить|discussion|обсуждение|comments?|комментарии|subscribe|подписаться|"
    r"share( on \w+)?|поделиться|read more|читать далее|реклама|advertisement|"
    r"the news mentions|log in or register|войдите или зарегистрируйтесь|"
    r"заголовок открываемого материала|подписка на новости|"
    r"ежедневная рассылка новостей.*|go to the mediabank|"
    r"(also )?read( also)?:?|читайте также:?"
    r")[.!:]?\s*$",
    re.IGNORECASE,
)
# From one of these lines on, the page is comments, related news and footers.
_TAIL = re.compile(
    r"^\s*(to participate in the discussion|чтобы принять участие в обсуждении|"
    r"the rights to this material belong to|права на этот материал принадлежат|"
    r"do you want to leave a comment|хотите оставить комментарий|"
    r"the material is placed by the copyright holder|материал размещен правообладателем|"
    r"related news|похожие новости|читайте также|"
    r"if you have any questions|subscribe to our)",
    re.IGNORECASE,
)
_COUNTER = re.compile(r"^[-•·*\s]*[\d\s.,:]*[\dkKкК]?\s*$")  # "2072", "0", "• 02.12 14:51"
_CREDIT = re.compile(r"^\s*(©|\(c\)|photo:|фото:)", re.IGNORECASE)
# "... - Sputnik International, 1920, 25.01.2022": an image caption with the site's stamp.
_STAMPED_CAPTION = re.compile(r"\s[-–—]\s[^.!?]{2,60},\s*\d{3,4},\s*\d\d\.\d\d\.\d{4}\s*$")
_SITE_HEADER = re.compile(r"^[-•\s]*[\w .]{2,40},\s*\d{3,4}\s*$")  # "- Sputnik International, 1920"
_TERMINAL = re.compile(r"[.!?…»\"”:;)]\s*$")

OUTLETS = {
    "RIA Novosti": ("RIA Novosti", "РИА Новости", "ria.ru"),
    "TASS": ("TASS", "ТАСС", "tass.ru", "tass.com"),
    "Sputnik": ("Sputnik",),
    "Interfax": ("Interfax", "Интерфакс"),
    "RT": ("RT", "Russia Today"),
    "Kommersant": ("Kommersant", "Коммерсантъ", "Коммерсант"),
    "Izvestia": ("Izvestia", "Известия"),
    "Reuters": ("Reuters", "Рейтер"),
    "Associated Press": ("Associated Press", "AP"),
    "AFP": ("AFP", "Agence France-Presse"),
    "BBC": ("BBC", "Би-би-си"),
    "Meduza": ("Meduza", "Медуза"),
}


@dataclass(frozen=True)
class Cleaned:
    title: str
    body: list[str]  # paragraphs
    title_in_body: bool  # no title line was found: the title is the body's opening words
    outlet: str | None
    published: tuple[int | None, int, int] | None  # (year or None, month, day)
    date_uncertain: bool


def _is_chrome(line: str) -> bool:
    s = line.strip()
    return bool(
        _CHROME_LINE.match(s)
        or _COUNTER.match(s)
        or _CREDIT.match(s)
        or _STAMPED_CAPTION.search(s)
        or _SITE_HEADER.match(s)
    )


def _is_title(line: str) -> bool:
    s = line.strip()
    return len(s.split()) >= 4 and len(s) <= 250 and not s.endswith(".") and not _is_chrome(s)


def _drop_captions(lines: list[str]) -> list[str]:
    """Remove photo captions (unpunctuated lines just above a credit line) and the related-news
    headline that follows a site-stamped caption."""
    drop = set()
    for i, line in enumerate(lines):
        if _CREDIT.match(line):
            j = i - 1
            while j >= 0 and i - j <= 2 and lines[j].strip() and not _TERMINAL.search(lines[j]):
                drop.add(j)
                j -= 1
        if _STAMPED_CAPTION.search(line) and i + 1 < len(lines):
            nxt = lines[i + 1].strip()
            if nxt and len(nxt) < 200 and not _TERMINAL.search(nxt):
                drop.add(i + 1)
    return [x for i, x in enumerate(lines) if i not in drop]


def clean(raw: str, title_hint: str | None = None) -> tuple[str, list[str], bool]:
    """(title, body paragraphs, whether the title was taken from the body) of a page."""
    lines = [ln.rstrip() for ln in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    for i, line in enumerate(lines):
        if _TAIL.match(line):
            lines = lines[:i]
            break
    lines = _drop_captions(lines)
    kept = [ln.strip() for ln in lines if ln.strip() and not _is_chrome(ln)]
    kept = [ln for ln in kept if not dates.is_time_line(ln)]
    title = title_hint
    if title is None:
        for i, line in enumerate(kept):
            if _is_title(line):
                title, kept = line, kept[i + 1 :]
                break
    elif kept and kept[0] == title:
        kept = kept[1:]
    from_body = title is None
    if from_body:
        title = _opening(kept[0]) if kept else ""
    return title, [re.sub(r"[ \t]+", " ", p) for p in kept], from_body


def _opening(paragraph: str, limit: int = 100) -> str:
    """A stand-in title: the first sentence, or the first words up to ``limit`` characters."""
    m = re.match(r"(.{20,}?[.!?])(\s|$)", paragraph)
    if m and len(m[1]) <= limit:
        return m[1]
    cut = paragraph[:limit].rsplit(" ", 1)[0]
    return cut + ("…" if len(paragraph) > len(cut) else "")


def dateline_outlet(body: list[str], opening: bool = True) -> str | None:
    """The outlet named in the dateline ("MOSCOW, February 14. /TASS/."), else (``opening``)
    in the first two paragraphs."""
    head = " ".join(body[:2])
    for region in (dates.dateline(head) or "", head if opening else ""):
        for name, aliases in OUTLETS.items():
            if any(re.search(rf"(?<!\w)/?{re.escape(a)}/?(?!\w)", region) for a in aliases):
                return name
    return None


def find_outlet(raw: str, body: list[str]) -> str | None:
    """The outlet named in the dateline, else the one the page names most."""
    named = dateline_outlet(body)
    if named:
        return named
    counts = {
        name: sum(len(re.findall(rf"(?<!\w){re.escape(a)}(?!\w)", raw)) for a in aliases)
        for name, aliases in OUTLETS.items()
    }
    best = max(counts, key=counts.get)
    return best if counts[best] else None


def extract(raw: str, title_hint: str | None = None) -> Cleaned:
    """Clean a page and read its metadata. The date's year may be inferred (flagged)."""
    title, body, from_body = clean(raw, title_hint)
    published, uncertain = dates.publication_date(raw, body)
    return Cleaned(title, body, from_body, find_outlet(raw, body), published, uncertain)
