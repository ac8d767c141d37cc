"""The web UI (`qa serve`): a Gradio chat over the same Pipeline as `qa ask`, mounted on a
FastAPI app that also serves two plain routes:

    GET /api/ask?q=...&k=5&lang=both     the object `qa ask --json` prints
    GET /article/{id}?start=..&end=..    the cleaned article, the cited range in <mark id=p-START>

This is the only module that imports gradio. Article text is untrusted: in the chat it goes
through render.escape_md (HTML- and markdown-escaped), in the article view through
html.escape, and it never reaches gr.HTML. Links are built only from article ids, offsets and
http(s) URLs. A Content-Security-Policy keeps anything that slips through from running or from
loading anything from outside the app.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import socket
import sys
from urllib.parse import quote, urlencode

from qa.config import Settings, quiet_third_party

quiet_third_party()  # before gradio is imported: no telemetry, no version checks

import gradio as gr  # noqa: E402
from fastapi import FastAPI, Query  # noqa: E402
from fastapi.responses import HTMLResponse, Response  # noqa: E402

from qa import render  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.pipeline import Pipeline  # noqa: E402

LANGS = {"both": None, "en": ("en",), "ru": ("ru",)}
LANG_CHOICES = [("English + Русский", "both"), ("English", "en"), ("Русский", "ru")]
EXAMPLES = [
    "When did the US send its written response?",
    "When did Lavrov meet Putin?",
    "Когда США передали России письменный ответ?",
    "Где Лавров и Блинкен провели переговоры 21 января?",
]
LABELS = {  # chat labels in the question's language, like render.NO_ANSWER
    "en": {
        "sources": "Sources",
        "also": "also in",
        "reported": "reported by",
        "when": "date",
        "differ": "The sources differ (newest first)",
    },
    "ru": {
        "sources": "Источники",
        "also": "также в",
        "reported": "сообщают",
        "when": "дата",
        "differ": "Источники расходятся (сначала новые)",
    },
}
ANY = "any · любое"
SNIPPET = 300  # characters of a passage shown under "Sources"
CHAT_CONCURRENCY = 4  # questions answered at once (threads); the GIL caps real parallelism

# The gradio page needs inline scripts and styles (its config and theme are inlined), so the
# policy there is about where things load from: nothing outside this server.
GRADIO_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; worker-src 'self' blob:; frame-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
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
CHAT_CSS = ".qa-sources summary{cursor:pointer;font-weight:600}"


# ---- answers as JSON (shared with `qa ask --json`) and as chat markdown ----------------------


def ask_json(
    pipe: Pipeline,
    question: str,
    k: int,
    langs: str = "both",
    since: str | None = None,
    until: str | None = None,
    outlets: tuple[str, ...] = (),
) -> dict:
    """What `qa ask --json` prints for this question (with the same filters)."""
    if langs not in LANGS:
        raise QAError(f"unknown language {langs!r}: use en, ru or both")
    for value in (since, until):
        if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise QAError(f"date {value!r} is not YYYY-MM-DD")
    answer = pipe.ask(question, k, LANGS[langs], since or None, until or None, tuple(outlets))
    return render.answer_json(answer, k)


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


def _md(s: str) -> str:
    return render.escape_md(_flat(s))


def _source_md(a: dict, href: str) -> str:
    return f"[{_md(render.source_line(a))}]({href})"


def _also_md(articles: list[dict], lang: str) -> str:
    links = "; ".join(_source_md(o, article_href(o["id"])) for o in articles)
    return f"{LABELS[lang]['also']}: {links}" if links else ""


def answer_markdown(obj: dict) -> str:
    """The chat message for an answer object: the span in bold inside its evidence sentence,
    the citation, then a collapsed "Sources" list. Every corpus string is escaped."""
    ans, lang = obj["answer"], obj["language"] if obj["language"] in LABELS else "en"
    if ans is None:
        head = _md(render.NO_ANSWER[lang])
    else:
        sent, s0 = ans["sentence"], ans["sentence_start"]
        rel_s, rel_e = ans["start"] - s0, ans["end"] - s0
        quoted = f"{_md(sent[:rel_s])}<strong>{_md(sent[rel_s:rel_e])}</strong>{_md(sent[rel_e:])}"
        href = article_href(
            ans["article"]["id"], s0, ans["sentence_end"], (ans["start"], ans["end"])
        )
        head = f"{quoted} [\\[1\\]]({href})"
        resolved = ans.get("resolved_date")
        if resolved:
            head += f"  \n{LABELS[lang]['when']}: **{_md(ans['display'])}**"
        head += f"\n\n\\[1\\] {_source_md(ans['article'], href)}"
        if ans["also_in"]:
            head += f"  \n{_also_md(ans['also_in'], lang)}"
        head += _corroboration_md(ans, lang) + _conflicts_md(ans, lang)
    return f"{head}\n\n{sources_markdown(obj['passages'], lang)}".rstrip()


def _corroboration_md(ans: dict, lang: str) -> str:
    """ "reported by TASS, RIA Novosti" with a link to each article that states the answer."""
    support = ans.get("corroborated_by") or []
    if not support:
        return ""
    outlets = ", ".join(_md(o) for o in ans.get("reported_by", []))
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
        items.append(f"**{_md(c['text'])}**: {_source_md(c['article'], href)}")
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
        item = (
            f"{i}. {_source_md(p['article'], href)} · score {p['score']:.4f}  \n   {_md(snippet)}"
        )
        if p["also_in"]:
            item += f"  \n   {_also_md(p['also_in'], lang)}"
        items.append(item)
    body = "\n".join(items)
    summary = f"{LABELS[lang]['sources']} ({len(passages)})"
    return f'<details class="qa-sources"><summary>{summary}</summary>\n\n{body}\n\n</details>'


# ---- the article view: a plain server-rendered page, no script --------------------------------


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


# ---- the app ---------------------------------------------------------------------------------


class SecurityHeaders:
    """ASGI middleware: a CSP (unless the route set its own) and a few hardening headers on
    every HTTP response, streaming ones included."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": GRADIO_CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                }
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _blocks(pipe: Pipeline, k: int) -> gr.Blocks:
    def respond(
        message: str, history: list, langs: str, outlet: str = ANY, since: str = "", until: str = ""
    ) -> str:
        outlets = () if not outlet or outlet == ANY else (outlet,)
        try:
            obj = ask_json(pipe, message, k, langs or "both", since.strip(), until.strip(), outlets)
            return answer_markdown(obj)
        except QAError as e:
            return _md(str(e))

    chatbot = gr.Chatbot(
        height=520,
        latex_delimiters=[],  # "$5 and $10" in an article is money, not LaTeX
        allow_tags=False,
        sanitize_html=True,
        placeholder="Ask about the news articles · Спросите о новостях",
        buttons=["copy"],
    )
    langs = gr.Radio(LANG_CHOICES, value="both", label="Answer from articles in")
    outlets = sorted({a.outlet for a in pipe.index.articles.values() if a.outlet})
    outlet = gr.Dropdown([ANY, *outlets], value=ANY, label="Outlet · Издание")
    since = gr.Textbox(value="", label="Published since · С даты (YYYY-MM-DD)", max_lines=1)
    until = gr.Textbox(value="", label="Published until · По дату (YYYY-MM-DD)", max_lines=1)
    return gr.ChatInterface(
        respond,
        chatbot=chatbot,
        additional_inputs=[langs, outlet, since, until],
        additional_inputs_accordion=gr.Accordion("Filters · Фильтры", open=True),
        examples=[[q, "both", ANY, "", ""] for q in EXAMPLES],
        cache_examples=False,
        title="qa: questions about the news · вопросы по новостям",
        description="Answers are quoted verbatim from the articles, with the passage they "
        "came from. Ответы — дословные цитаты из статей со ссылкой на источник.",
        concurrency_limit=CHAT_CONCURRENCY,
        api_name="chat",
        fill_height=False,
        save_history=False,
        flagging_mode="never",
    )


OUTLET_PARAM = Query(None, description="only articles from this outlet (repeatable)")


def create_app(pipe: Pipeline, k: int, host: str = "127.0.0.1", port: int = 7860) -> FastAPI:
    """FastAPI app: the JSON and article routes first, then the gradio chat at "/"."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/api/ask")
    def api_ask(
        q: str = Query(..., description="the question"),
        k: int = Query(k, ge=1, le=50),
        lang: str = Query("both", pattern="^(en|ru|both)$"),
        since: str | None = None,
        until: str | None = None,
        outlet: list[str] | None = OUTLET_PARAM,
    ) -> Response:
        # A plain def: FastAPI runs it in a thread pool, off the event loop.
        try:
            obj = ask_json(pipe, q, k, lang, since, until, tuple(outlet or ()))
        except QAError as e:
            obj, status = {"error": str(e)}, 400
        else:
            status = 200
        body = json.dumps(obj, ensure_ascii=False)
        return Response(body, status_code=status, media_type="application/json")

    @app.get("/article/{article_id}", response_class=HTMLResponse)
    def article(
        article_id: str,
        start: int | None = None,
        end: int | None = None,
        span_start: int | None = None,
        span_end: int | None = None,
    ) -> HTMLResponse:
        a = pipe.index.articles.get(article_id)
        if a is None:
            page = f"<!doctype html><title>Not found</title><p>No article {html.escape(article_id)}"
            return HTMLResponse(page, 404, headers={"Content-Security-Policy": ARTICLE_CSP})
        page = article_page(a, start, end, (span_start, span_end))
        return HTMLResponse(page, headers={"Content-Security-Policy": ARTICLE_CSP})

    app.add_middleware(SecurityHeaders)
    theme = gr.themes.Default(primary_hue="blue")
    return gr.mount_gradio_app(
        app,
        _blocks(pipe, k),
        path="/",
        server_name=host,
        server_port=port,
        footer_links=["api", "settings"],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        theme=theme,
        css=CHAT_CSS,
    )


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise QAError(f"cannot listen on {host}:{port} ({e.strerror}): pass --port N") from None


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the model and index, then serve until interrupted."""
    import uvicorn

    _check_port(host, port)
    pipe = Pipeline(settings)
    _ = pipe.index  # a missing index fails now, not after the model has loaded
    pipe.warm_up()  # the first question should be as fast as the rest
    app = create_app(pipe, settings.k, host, port)
    if not settings.quiet:
        shown = f"[{host}]" if ":" in host else host
        print(f"qa: serving on http://{shown}:{port} (Ctrl+C to stop)", file=sys.stderr)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"qa: note: listening on {host}: reachable from other machines", file=sys.stderr)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=2,  # open chat streams would otherwise hold Ctrl+C up
    )
