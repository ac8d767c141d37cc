"""The web UI (`qa serve`): a Gradio chat over the same Pipeline as `qa ask`, mounted on a
FastAPI app that also serves two plain routes:

    GET /api/ask?q=...&k=5&lang=both     the object `qa ask --json` prints; with
                                         &history=Q1&history=Q2 (earlier questions, oldest
                                         first) q is answered as their follow-up
    GET /article/{id}?start=..&end=..    the cleaned article, the cited range in <mark id=p-START>

This is the only module that imports gradio. Article text is untrusted: in the chat it goes
through render.escape_md (HTML- and markdown-escaped), in the article view through
html.escape, and it never reaches gr.HTML. Links are built only from article ids, offsets and
http(s) URLs. A Content-Security-Policy keeps anything that slips through from running or from
loading anything from outside the app.
"""

from __future__ import annotations

import html
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Sequence

from qa.config import Settings, quiet_third_party
from qa.web.quick_import import without_stub_writer

quiet_third_party()  # before gradio is imported: no telemetry, no version checks

with without_stub_writer():  # ~2.8 s of gradio's import writes type stubs (quick_import.py)
    import gradio as gr

from fastapi import FastAPI, Query  # noqa: E402
from fastapi.responses import HTMLResponse, Response  # noqa: E402

from qa import render  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.pipeline import Pipeline  # noqa: E402
from qa.web.security import SecurityHeaders  # noqa: E402
from qa.web.views import ARTICLE_CSP, answer_markdown, article_page, md  # noqa: E402

LANGS = {"both": None, "en": ("en",), "ru": ("ru",)}
LANG_CHOICES = [("English + Русский", "both"), ("English", "en"), ("Русский", "ru")]
EXAMPLES = [
    "When did the US send its written response?",
    "Where did Lavrov and Blinken hold talks on January 21?",
    "Who is Russia's Deputy Foreign Minister?",
    "Когда США передали России письменный ответ?",
    "Где Лавров и Блинкен провели переговоры 21 января?",
    "Кто министр иностранных дел Украины?",
]
NEW_CHAT = "New conversation · Новый разговор"
ANY = "any · любое"
CHAT_CONCURRENCY = 4  # questions answered at once (threads); the GIL caps real parallelism

CHAT_CSS = ".qa-sources summary{cursor:pointer;font-weight:600}"


# ---- answers as JSON (shared with `qa ask --json`) ------------------------------------------


def ask_json(
    pipe: Pipeline,
    question: str,
    k: int,
    langs: str = "both",
    since: str | None = None,
    until: str | None = None,
    outlets: tuple[str, ...] = (),
    history: Sequence[str] = (),
) -> dict:
    """What `qa ask --json` prints for this question (with the same filters); with earlier
    ``history`` questions, what `qa chat --json` prints for it as their follow-up."""
    if langs not in LANGS:
        raise QAError(f"unknown language {langs!r}: use en, ru or both")
    for value in (since, until):
        if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise QAError(f"date {value!r} is not YYYY-MM-DD")
    where = {"langs": LANGS[langs], "since": since or None, "until": until or None}
    answer = pipe.converse(question, history, k, **where, outlets=tuple(outlets))
    return render.answer_json(answer, k)


def user_questions(history: list) -> list[str]:
    """The user's earlier messages in a gradio chat history (messages as dicts)."""
    out = []
    for m in history or []:
        if m.get("role") != "user":
            continue
        c = m.get("content")
        if isinstance(c, dict):
            c = c.get("text")
        elif isinstance(c, list):
            c = " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in c)
        if isinstance(c, str) and c.strip():
            out.append(c)
    return out


# ---- the app ---------------------------------------------------------------------------------


def _blocks(pipe: Pipeline, k: int) -> gr.Blocks:
    def respond(
        message: str, history: list, langs: str, outlet: str = ANY, since: str = "", until: str = ""
    ) -> str:
        outlets = () if not outlet or outlet == ANY else (outlet,)
        asked = user_questions(history)
        try:
            obj = ask_json(
                pipe, message, k, langs or "both", since.strip(), until.strip(), outlets, asked
            )
            return answer_markdown(obj)
        except QAError as e:
            return md(str(e))

    chatbot = gr.Chatbot(
        height=None,  # grows with the conversation, then scrolls
        min_height=520,
        max_height="85vh",
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
    filters = gr.Accordion("Filters · Фильтры", open=True)  # made here: inside Blocks it renders
    with gr.Blocks(title="qa: questions about the news") as demo:
        with gr.Row(equal_height=False):
            gr.Markdown(
                "## qa: questions about the news · вопросы по новостям\n"
                "Answers are quoted verbatim from the articles, with the passage they came "
                "from; ask follow-ups. Ответы — дословные цитаты из статей со ссылкой на "
                "источник; можно задавать уточняющие вопросы."
            )
            new_chat = gr.Button(NEW_CHAT, variant="secondary", size="sm", scale=0, min_width=260)
        chat = gr.ChatInterface(
            respond,
            chatbot=chatbot,
            additional_inputs=[langs, outlet, since, until],
            additional_inputs_accordion=filters,
            # Questions only (no filter values): gradio lists them, clickable, in the empty
            # chat and runs them with the filters as set.
            examples=[[q, None, None, None, None] for q in EXAMPLES],
            cache_examples=False,
            concurrency_limit=CHAT_CONCURRENCY,
            api_name="chat",
            fill_height=False,
            save_history=False,
            flagging_mode="never",
        )
        # A new conversation: follow-ups stop leaning on the old one (the history is the chat).
        new_chat.click(
            lambda: ([], [], []),
            None,
            [chat.chatbot, chat.chatbot_state, chat.chatbot_value],
            queue=False,
            api_visibility="private",
        )
    return demo


OUTLET_PARAM = Query(None, description="only articles from this outlet (repeatable)")
HISTORY_PARAM = Query(
    None, description="an earlier question of the conversation, oldest first (repeatable)"
)


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
        history: list[str] | None = HISTORY_PARAM,
    ) -> Response:
        # A plain def: FastAPI runs it in a thread pool, off the event loop.
        try:
            obj = ask_json(pipe, q, k, lang, since, until, tuple(outlet or ()), history or ())
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


def _warm_up(pipe: Pipeline, server) -> None:
    # After the server listens: loading the tokenizer and the graphs holds the GIL, and would
    # hold the page up as long. A question asked meanwhile waits for the models (a lock).
    waited = 0.0
    while not server.started and not server.should_exit and waited < 60:
        time.sleep(0.05)
        waited += 0.05
    try:
        pipe.warm_up()
    except QAError as e:  # the same error reaches every question; say it once, now
        print(f"qa: error: {e}", file=sys.stderr)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the index and serve the page at once; the models load right after it is up."""
    import uvicorn

    _check_port(host, port)
    pipe = Pipeline(settings)
    _ = pipe.index  # a missing index fails now, not after the model has loaded
    app = create_app(pipe, settings.k, host, port)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=2,  # open chat streams would otherwise hold Ctrl+C up
        )
    )
    threading.Thread(target=_warm_up, args=(pipe, server), daemon=True, name="qa-warm-up").start()
    if not settings.quiet:
        shown = f"[{host}]" if ":" in host else host
        print(f"qa: serving on http://{shown}:{port} (Ctrl+C to stop)", file=sys.stderr)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"qa: note: listening on {host}: reachable from other machines", file=sys.stderr)
    server.run()
