"""HTML page -> article text and metadata, through trafilatura.

Our own stdlib reader (dropping nav/header/footer/aside tags, then line rules written for five
seed pages) kept out only ~52% of the boilerplate snippets of 171 annotated real pages;
trafilatura, the extractor the field maintains for exactly this, keeps out ~91% at the same
body recall (docs/extraction.md). So the page's structure is trafilatura's job; what we add on
top (qa.ingest.clean, qa.ingest.dates) is news-specific: datelines, Russian outlet names, years
inferred from the text.

Readers' comments are left out: they are not what the outlet reported.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

# Part of an HTML article's content hash (qa.ingest.corpus): a new reader or new settings
# re-read every page on the next incremental build instead of keeping the old extraction.
READER = "trafilatura-2.3.1/comments-off/1"


@dataclass
class Page:
    text: str = ""  # the article's paragraphs, one a line
    meta: dict = field(default_factory=dict)  # title, outlet, url, published, author: as given
    site: str | None = None  # the domain name, when the page names no site: a last-resort outlet


_SEP = re.compile(r"\s+[-–—|:·•]\s+")


def _date_settings() -> dict:
    # original_date: the publication date, not the last update; max_date: no future dates.
    # No extensive search: it guesses from any date-like text on the page (related news,
    # comments) and loads dateparser's every locale (~10 s); our dateline rules read the text.
    return {
        "original_date": True,
        "extensive_search": False,
        "max_date": dt.date.today().isoformat(),
    }


def parse(source: str, url: str | None = None) -> Page:
    """The article in an HTML page: its paragraphs and what the page says about it (meta
    tags, JSON-LD, <time> and date elements, the URL). ``url``: where the page came from."""
    import trafilatura

    if not re.search(r"<(html|body)[\s>]", source[:4096], re.I):
        source = f"<html><body>{source}</body></html>"  # a saved fragment: trafilatura wants a page
    doc = trafilatura.bare_extraction(
        source,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        date_extraction_params=_date_settings(),
    )
    if doc is None:
        return Page()
    lines = [" ".join(line.split()) for line in (doc.text or "").split("\n")]
    lines = [line for line in lines if line]
    meta = {
        "title": _title(doc.title, lines, doc.sitename),
        "url": doc.url,
        "published": doc.date,
        "author": doc.author,
    }
    site = doc.sitename
    # trafilatura falls back to a domain name ("example.com") when the page names no site.
    weak = bool(site) and "." in site and " " not in site
    if site and not weak:
        meta["outlet"] = site
    meta = {k: v for k, v in meta.items() if v}
    return Page("\n".join(lines), meta, site if weak else None)


def has_article(paragraphs: list[str]) -> bool:
    """Whether extracted paragraphs hold any prose: on a page without an article trafilatura's
    fallbacks return menu items and footer lines, which are short."""
    return any(len(p.split()) >= 6 or len(p) >= 40 for p in paragraphs)


def _title(title: str | None, lines: list[str], site: str | None) -> str | None:
    """The headline: the page's title without the site's name around it ("Headline - Site
    Name, 26.01.2022" in og:title and <title>; "Headline" in the <h1>)."""
    if not title:
        return None
    title = " ".join(title.split())
    first = lines[0] if lines else ""
    if first and title != first and title.startswith(first) and _SEP.match(title[len(first) :]):
        return first
    if site and (m := re.match(rf"^(.*\S){_SEP.pattern}(.*)$", title)):
        if site.lower() in m[2].lower() and len(m[1]) >= 10:
            return m[1]
    if site and (m := re.match(rf"^(.*?){_SEP.pattern}(.*\S)$", title)):
        if site.lower() in m[1].lower() and len(m[2]) >= 10:
            return m[2]
    return title
