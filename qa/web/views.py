"""Pure views for the web UI: an answer object (render.answer_json) as chat markdown, and
the article view as a server-rendered page with no script. Article text is untrusted: it goes
through render.escape_md in markdown and html.escape in HTML, and links are built only from
article ids, offsets and http(s) URLs.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from urllib.parse import quote, urlencode

from qa import render

LABELS = {  # chat labels in the question's language, like render.NO_ANSWER
    "en": {
        "sources": "Sources",
        "also": "also in",
        "reported": "reported by",
        "differ": "The sources differ (newest first)",
        "confidence": "confidence",
    },
    "ru": {
        "sources": "Источники",
        "also": "также в",
        "reported": "сообщают",
        "differ": "Источники расходятся (сначала новые)",
        "confidence": "уверенность",
    },
}
SNIPPET = 300  # characters of a passage shown under "Sources"
ARTICLE_CSS = (
    "body{font:17px/1.55 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "color:#1f2328}h1{font-size:1.5rem;line-height:1.3}.meta{color:#57606a;font-size:.9rem}"
    ".text{white-space:pre-wrap}mark{background:#fff3a3;padding:.1em 0;scroll-margin-top:30vh}"
    "mark strong{background:#ffd84d}nav a,.meta a{color:#0969da}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(ARTICLE_CSS.encode()).digest()).decode()
# The article view runs no script at all: its only style is the constant above, by hash.
ARTICLE_CSP = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


def article_href(article_id: str, start: int | None = None, end: int | None = None, span=None):
    """In-app link to the article view, scrolled to (and marking) [start, end)."""
    url = f"/article/{quote(article_id, safe='')}"
    if start is None or end is None:
        return url
    params = {"start": start, "end": end}
    if span:
        params.update(span_start=span[0], span_end=span[1])
    return f"{url}?{urlencode(params)}#p-{start}"


def _flat(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def md(s: str) -> str:
    return render.escape_md(_flat(s))


def _source_md(a: dict, href: str) -> str:
    return f"[{md(render.source_line(a))}]({href})"


def _also_md(articles: list[dict], lang: str) -> str:
    links = "; ".join(_source_md(o, article_href(o["id"])) for o in articles)
    return f"{LABELS[lang]['also']}: {links}" if links else ""


def answer_markdown(obj: dict) -> str:
    """The chat message for an answer object: how a follow-up was understood, the answer as a
    headline with the confidence in words, its evidence sentence quoted with the span in bold,
    the citation, then a collapsed "Sources" list. Every corpus string is escaped."""
    ans, lang = obj["answer"], obj["language"] if obj["language"] in LABELS else "en"
    understood = render.understood_line(obj)
    lead = f"_{md(understood)}_\n\n" if understood else ""
    head = md(render.NO_ANSWER[lang]) if ans is None else _answer_md(ans, lang)
    return f"{lead}{head}\n\n{sources_markdown(obj['passages'], lang)}".rstrip()


def _answer_md(ans: dict, lang: str) -> str:
    sent, s0 = ans["sentence"], ans["sentence_start"]
    rel_s, rel_e = ans["start"] - s0, ans["end"] - s0
    quoted = f"{md(sent[:rel_s])}<strong>{md(sent[rel_s:rel_e])}</strong>{md(sent[rel_e:])}"
    href = article_href(ans["article"]["id"], s0, ans["sentence_end"], (ans["start"], ans["end"]))
    word = render.confidence_word(ans["score"], lang)
    head = f"### {md(ans.get('display') or ans['text'])}\n"
    head += f"_{word}_ · {LABELS[lang]['confidence']} {ans['score']:.2f}\n\n"
    head += f"> {quoted} [\\[1\\]]({href})"
    head += f"\n\n\\[1\\] {_source_md(ans['article'], href)}"
    if ans["also_in"]:
        head += f"  \n{_also_md(ans['also_in'], lang)}"
    return head + _corroboration_md(ans, lang) + _conflicts_md(ans, lang)


def _corroboration_md(ans: dict, lang: str) -> str:
    """ "reported by TASS, RIA Novosti" with a link to each article that states the answer."""
    support = ans.get("corroborated_by") or []
    if not support:
        return ""
    outlets = ", ".join(md(o) for o in ans.get("reported_by", []))
    links = "; ".join(
        _source_md(c["article"], article_href(c["article"]["id"], c["start"], c["end"]))
        for c in support
    )
    return f"  \n{LABELS[lang]['reported']} {outlets}: {links}"


def _conflicts_md(ans: dict, lang: str) -> str:
    rows = ans.get("conflicts") or []
    if not rows:
        return ""
    items = []
    for c in rows:
        href = article_href(c["article"]["id"], c["start"], c["end"])
        items.append(f"**{md(c['text'])}**: {_source_md(c['article'], href)}")
    return f"\n\n{LABELS[lang]['differ']}:  \n" + "  \n".join(items)


def sources_markdown(passages: list[dict], lang: str = "en") -> str:
    """Ranked passages in a collapsed <details>; wire copies folded into "also in"."""
    if not passages:
        return ""
    items = []
    for i, p in enumerate(passages, 1):
        snippet = _flat(p["text"]).strip()
        snippet = snippet if len(snippet) <= SNIPPET else snippet[: SNIPPET - 1] + "…"
        href = article_href(p["article"]["id"], p["start"], p["end"])
        item = f"{i}. {_source_md(p['article'], href)} · score {p['score']:.4f}  \n   {md(snippet)}"
        if p["also_in"]:
            item += f"  \n   {_also_md(p['also_in'], lang)}"
        items.append(item)
    body = "\n".join(items)
    summary = f"{LABELS[lang]['sources']} ({len(passages)})"
    return f'<details class="qa-sources"><summary>{summary}</summary>\n\n{body}\n\n</details>'


def _int_in(value: int | None, lo: int, hi: int) -> int | None:
    return value if value is not None and lo <= value <= hi else None


def _safe_http(url: str | None) -> str | None:
    return url if url and re.match(r"https?://[^\s<>\"'`]+$", url) else None


def marked_text(text: str, start: int | None, end: int | None, span=(None, None)) -> str:
    """Escaped article text with [start, end) in <mark id="p-START"> and the answer span in it
    bold. Offsets out of range are ignored (they come from the URL)."""
    e = html.escape
    start = _int_in(start, 0, len(text))
    end = _int_in(end, start or 0, len(text)) if start is not None else None
    if start is None or end is None:
        return e(text)
    mid = e(text[start:end])
    bs = _int_in(span[0], start, end)
    be = _int_in(span[1], bs or start, end) if bs is not None else None
    if bs is not None and be is not None:
        mid = f"{e(text[start:bs])}<strong>{e(text[bs:be])}</strong>{e(text[be:end])}"
    return f'{e(text[:start])}<mark id="p-{start}">{mid}</mark>{e(text[end:])}'


def article_page(article, start=None, end=None, span=(None, None)) -> str:
    e = html.escape
    a = render.article_json(article)
    bits = [b for b in (a["outlet"], a["published"], a["language"]) if b]
    url = _safe_http(a["url"])
    link = f' · <a href="{e(url)}" rel="noopener noreferrer nofollow">original</a>' if url else ""
    return (
        f'<!doctype html><html lang="{e(a["language"])}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(a['title'])}</title><style>{ARTICLE_CSS}</style></head><body>"
        f'<nav><a href="/">← qa</a></nav><article><h1>{e(a["title"])}</h1>'
        f'<p class="meta">{e(" · ".join(bits))} · {e(a["path"])} · id {e(a["id"])}{link}</p>'
        f'<div class="text">{marked_text(article.text, start, end, span)}</div>'
        "</article></body></html>"
    )
