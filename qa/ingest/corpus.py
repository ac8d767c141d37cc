"""Corpus files -> Article: .txt, .md (front matter) and .html pages, with optional JSON sidecars.

A sidecar ``name.json`` beside ``name.txt`` may give title, url, outlet, published, language
and translation_of; what it gives wins over what we read from the page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError
from qa.ingest import clean, dates, lang
from qa.ingest import html as htmltext
from qa.types import Article

SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_BYTES = 5_000_000
META_KEYS = ("title", "url", "outlet", "published", "language", "translation_of", "author")


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


def article_id(rel: str) -> str:
    return hashlib.sha1(rel.encode("utf-8")).hexdigest()[:12]


def list_files(root: Path) -> list[Path]:
    """Article files under ``root``, sorted, skipping hidden files and sidecars."""
    if not root.is_dir():
        raise CorpusError(f"corpus directory {root} does not exist: create it or pass --corpus DIR")
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def _decode(path: str, data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise CorpusError(f"{path}: binary file, not text; remove it from the corpus")
    try:
        return data.decode("utf-8-sig").lstrip("\ufeff")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")  # the usual legacy encoding of Russian pages
    except UnicodeDecodeError:
        text = ""
    # cp1251 maps almost every byte to something, so random bytes "decode" too: accept it only
    # when the result reads like text (letters, digits, spaces and ordinary punctuation).
    plain = sum(ch.isalnum() or ch.isspace() or ch in ".,;:!?-()«»\"'—–%№" for ch in text)
    if not text or plain < 0.95 * len(text):
        raise CorpusError(f"{path}: not UTF-8 text; re-save it as UTF-8")
    return text


def _front_matter(text: str) -> tuple[dict, str]:
    m = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.S)
    if not m:
        return {}, text
    meta = {}
    for line in m[1].splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in META_KEYS:
            meta[key.strip()] = value.strip().strip("'\"")
    return meta, text[m.end() :]


def _sidecar(path: Path) -> tuple[dict, bytes]:
    side = path.with_suffix(".json")
    if not side.exists():
        return {}, b""
    data = side.read_bytes()
    try:
        meta = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise CorpusError(f"{side}: invalid JSON ({e}); fix or delete the sidecar") from None
    if not isinstance(meta, dict):
        raise CorpusError(f"{side}: expected a JSON object of metadata")
    return {k: str(v) for k, v in meta.items() if k in META_KEYS and v is not None}, data


def _canonical_outlet(name: str | None) -> str | None:
    if not name:
        return None
    for canon, aliases in clean.OUTLETS.items():
        if name.strip().lower() in {a.lower() for a in aliases} | {canon.lower()}:
            return canon
    return name.strip()


def _safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"https?://[^\s<>\"']+$", url) else None


def _iso_or_none(value: str | None) -> str | None:
    try:
        return dt.date.fromisoformat(value[:10]).isoformat() if value else None
    except ValueError:
        return None


def read_article(root: Path, path: Path) -> tuple[Article, tuple | None]:
    """One file -> Article, plus (month, day) when its year is still unknown."""
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise CorpusError(f"{path}: {len(data)} bytes is over the {MAX_BYTES} byte limit; split it")
    meta, side_bytes = _sidecar(path)
    return parse_article(path.relative_to(root).as_posix(), data, meta, side_bytes, str(path))


def parse_article(
    rel: str, data: bytes, meta: dict, side_bytes: bytes = b"", where: str | None = None
) -> tuple[Article, tuple | None]:
    """The Article a file at corpus path ``rel`` with these bytes and sidecar metadata makes
    (``qa add URL`` reads a page before it is stored); ``where`` names it in error messages."""
    where = where or rel
    text = _decode(where, data)
    page = None
    if rel.lower().endswith((".html", ".htm")):
        page = htmltext.parse(text, url=_safe_url(meta.get("url")))
        meta, text = {**page.meta, **meta}, page.text
        side_bytes += htmltext.READER.encode()  # a new reader re-reads the page
    else:
        fm, text = _front_matter(text)
        meta = {**fm, **meta}
        if rel.lower().endswith(".md"):  # markdown headings are lines of their own
            text = re.sub(r"(?m)^#{1,6}\s+", "", text)
    got = clean.extract(text, meta.get("title"))
    if (not got.body and not got.title) or (page and not htmltext.has_article(got.body)):
        raise CorpusError(f"{where}: no article text found; check the {'page' if page else 'file'}")
    paragraphs = got.body if got.title_in_body else [got.title, *got.body]
    full = "\n\n".join(p for p in paragraphs if p)
    published, uncertain, partial = _published(meta, got)
    language = meta.get("language", "").lower()[:2]
    article = Article(
        id=article_id(rel),
        path=rel,
        title=got.title,
        lang=language if language in lang.LANGS else lang.detect(full),
        text=full,
        content_hash=hashlib.sha256(data + side_bytes).hexdigest()[:16],
        outlet=_outlet(meta, got, page),
        published=published,
        date_uncertain=uncertain,
        url=_safe_url(meta.get("url")),
        translation_of=meta.get("translation_of"),
        author=meta.get("author"),
    )
    return article, partial


def _published(meta: dict, got: clean.Cleaned) -> tuple[str | None, bool, tuple | None]:
    """(ISO date or None, year inferred?, (month, day) still awaiting a year): the sidecar's,
    front matter's or page's structured date, else the dateline or a date stamp in the text."""
    published = _iso_or_none(meta.get("published"))
    if published is not None or not got.published:
        return published, False, None
    year, month, day = got.published
    published = dates.iso(year, month, day)
    return published, got.date_uncertain, None if published else (month, day)


def _outlet(meta: dict, got: clean.Cleaned, page: htmltext.Page | None) -> str | None:
    """The sidecar's or page's outlet; for a web page that names none, the dateline's, then
    the domain name, before the outlet the text mentions most."""
    named = _canonical_outlet(meta.get("outlet"))
    if named or page is None:
        return named or got.outlet
    return (
        clean.dateline_outlet(got.body, opening=False) or _canonical_outlet(page.site) or got.outlet
    )


def _fill_years(articles: list[Article], partial: dict[str, tuple]) -> list[Article]:
    """Dates read without a year get the year that puts them nearest the corpus's other dated
    articles (news corpora cluster in time); they stay flagged as uncertain."""
    known = [dt.date.fromisoformat(a.published) for a in articles if a.published]
    if not known:
        return articles
    out = []
    for a in articles:
        if a.id in partial:
            month, day = partial[a.id]
            options = [
                d
                for y in sorted({k.year for k in known} | {k.year + 1 for k in known})
                if (d := _date_or_none(y, month, day))
            ]
            if options:
                best = min(options, key=lambda d: min(abs((d - k).days) for k in known))
                a = _replace(a, published=best.isoformat(), date_uncertain=True)
        out.append(a)
    return out


def _date_or_none(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _replace(a: Article, **kw) -> Article:
    from dataclasses import replace

    return replace(a, **kw)


def load(root: Path, only: set[str] | None = None) -> tuple[list[Article], list[Problem]]:
    """Every readable article under ``root``; unreadable files become Problems, not crashes."""
    articles, problems, partial = [], [], {}
    for path in list_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            article, md = read_article(root, path)
        except CorpusError as e:
            problems.append(Problem(rel, str(e)))
            continue
        except OSError as e:
            problems.append(Problem(rel, f"{path}: cannot read ({e.strerror})"))
            continue
        if md:
            partial[article.id] = md
        articles.append(article)
    return _fill_years(articles, partial), problems
