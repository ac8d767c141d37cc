"""The web UI (`qa serve`) on the real model: the JSON route against `qa ask --json`, the
gradio_client path, a bounded load test, index reload without restart, and real headless
Chromium asking English and Russian questions and opening citations, including an article full
of hostile HTML. One server (a real `qa serve` subprocess) serves the whole module. Rendering
and escaping without a server: tests/unit/web/test_views.py."""

from __future__ import annotations

import importlib.util
import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa import pipeline
from qa.cli import cli
from qa.config import Settings
from qa.web import app as ui
from qa.web import views
from tests.browser import chromium

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
ISSUE_EN = "When did the US send its written response?"
ISSUE_RU = "Когда США передали России письменный ответ?"
HOSTILE_Q = "Who counted the cargo cranes in the port of Valparaiso?"
HOSTILE_PATH = "en/900_hostile.txt"
ARTIFACTS = ROOT / "tests" / "artifacts"
# Anything in a chat message or the article body that could run, load or overlay.
ACTIVE = "script, img, iframe, frame, object, embed, form, input, button, svg, style, [style]"


def _load_bench():
    spec = importlib.util.spec_from_file_location("load_ui", ROOT / "bench" / "load_ui.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


load_ui = _load_bench()


def get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8")


def api(base: str, q: str, **params) -> tuple[int, str]:
    status, _, body = get(f"{base}/api/ask?{urllib.parse.urlencode({'q': q, **params})}")
    return status, body


# ---- one real server for the module -----------------------------------------------------------


@pytest.fixture(scope="module")
def ui_settings(tmp_path_factory, real_pipeline, real_settings, embedder) -> Settings:
    """The real corpus plus an article full of hostile HTML, indexed with the real model (a
    copy of the session's real index, so only the new article is embedded)."""
    root = tmp_path_factory.mktemp("ui")
    shutil.copytree(real_settings.corpus, root / "corpus")
    shutil.copytree(real_settings.index, root / "index")
    for suffix in (".txt", ".json"):
        shutil.copy(
            FIXTURES / "ui" / f"hostile{suffix}", root / "corpus" / "en" / f"900_hostile{suffix}"
        )
    settings = replace(real_settings, corpus=root / "corpus", index=root / "index")
    report = pipeline.build(settings, embedder=embedder)
    assert HOSTILE_PATH in report.added, report
    return settings


@pytest.fixture(scope="module")
def server(ui_settings, tmp_path_factory):
    """`qa serve` on a free 127.0.0.1 port, exactly as a user starts it."""
    port = load_ui.free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    args = ["--index", str(ui_settings.index), "--corpus", str(ui_settings.corpus)]
    proc = load_ui.start_server(
        args, port, log, env={"QA_MODEL_CACHE": str(ui_settings.model_cache)}
    )
    yield f"http://127.0.0.1:{port}"
    load_ui.stop_server(proc)


@pytest.mark.slow
def test_json_route_is_qa_ask_json(server, ui_settings):
    """Byte for byte what `qa ask --json` prints, in both languages."""
    args = ["ask", "-", "--json", "--index", str(ui_settings.index), "-q"]
    result = CliRunner().invoke(cli, args, input=f"{ISSUE_EN}\n{ISSUE_RU}\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for question, line in zip([ISSUE_EN, ISSUE_RU], lines, strict=True):
        status, body = api(server, question)
        assert status == 200
        assert body == line
        assert json.loads(body)["answer"] is not None


@pytest.mark.slow
def test_json_route_lang_k_and_errors(server):
    status, body = api(server, ISSUE_EN, lang="ru", k=2)
    obj = json.loads(body)
    assert status == 200 and len(obj["passages"]) == 2
    assert {p["article"]["language"] for p in obj["passages"]} == {"ru"}
    status, body = api(server, "   ")
    assert status == 400 and "empty question" in json.loads(body)["error"]
    assert api(server, ISSUE_EN, lang="fr")[0] == 422


@pytest.mark.slow
def test_gradio_client_chat(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    for question, lang in [(ISSUE_EN, "both"), (ISSUE_RU, "ru"), ("Какая погода на Марсе?", "ru")]:
        md = client.predict(question, lang, api_name="/chat")
        obj = json.loads(api(server, question, lang=lang)[1])
        assert md == views.answer_markdown(obj)  # the chat and the JSON route agree
    assert md.startswith(views.md(ui.render.NO_ANSWER["ru"]))


@pytest.mark.slow
def test_headers_and_article_view(server, ui_settings):
    status, headers, page = get(f"{server}/")
    assert status == 200
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "http" not in csp
    obj = json.loads(api(server, HOSTILE_Q)[1])
    art = obj["passages"][0]["article"]
    assert art["path"] == HOSTILE_PATH and art["url"] is None  # javascript: url was dropped
    status, headers, page = get(f"{server}/article/{art['id']}?start=0&end=5")
    assert status == 200 and "script-src" not in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert '<mark id="p-0">' in page and "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert (
        "<script" not in page and "<img" not in page and "javascript:" not in page.split("<div")[0]
    )
    status, _, page = get(f"{server}/article/%3Cscript%3E?start=x")
    assert status in (404, 422) and "<script>" not in page


@pytest.mark.slow
def test_load_json_and_chat(server):
    """200 questions at concurrency 8 through each path: every one answered, none mixed up."""
    qs = load_ui.questions()
    for name, ask in [
        ("json", lambda q: load_ui.ask_json(server, q)),
        ("chat", load_ui.chat_asker(server)),
    ]:
        row = load_ui.run(ask, qs, n=200, concurrency=8)
        assert row["returned"] == 200, (name, row)
        assert row["errors"] == 0, (name, row)
        assert row["lost"] == 0, (name, row)


# ---- real Chromium ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium(tmp_path_factory.mktemp("profile")) as ctx:
        yield ctx


def ask_in_browser(ctx, base: str, question: str, lang_label: str | None = None):
    """Open the chat, ask, wait for the answer; returns (page, last bot message)."""
    from playwright.sync_api import expect

    page = ctx.new_page()
    page.goto(base + "/")
    box = page.locator("textarea").first
    expect(box).to_be_editable()
    if lang_label:
        page.get_by_label(lang_label, exact=True).check()
    box.fill(question)
    box.press("Enter")
    answers = page.locator("[data-testid=bot] .md")
    expect(answers).to_have_count(1, timeout=30_000)
    expect(box).to_be_editable()  # the final update re-renders the chat
    return page, answers.last


def open_citation(ctx, message):
    """Click the [1] citation; returns the article view (a new tab) once loaded."""
    with ctx.expect_page() as info:
        message.get_by_role("link", name="[1]", exact=True).click()
    art = info.value
    art.wait_for_load_state("load")
    return art


def mark_in_view(art) -> bool:
    return art.locator("mark").evaluate(
        "m => { const r = m.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }"
    )


def external(ctx, base: str) -> list[str]:
    return [u for u in ctx.requests if not u.startswith((base + "/", "data:", "blob:"))]


@pytest.mark.slow
@pytest.mark.parametrize(
    "question, lang_label, expected, name",
    [
        (ISSUE_EN, None, "January 26", "en"),
        (ISSUE_RU, "Русский", "26 января", "ru"),
    ],
    ids=["en", "ru"],
)
def test_browser_answer_and_citation(browser, server, question, lang_label, expected, name):
    page, msg = ask_in_browser(browser, server, question, lang_label)
    assert expected in msg.locator("strong").first.inner_text()
    page.screenshot(path=ARTIFACTS / f"ui-{name}.png", full_page=True)
    msg.locator("summary").click()  # open "Sources"
    assert msg.locator("details li").count() == 5
    page.screenshot(path=ARTIFACTS / f"ui-{name}-sources.png", full_page=True)
    art = open_citation(browser, msg)
    assert "#p-" in art.url
    mark = art.locator("mark")
    assert (
        mark.get_attribute("id")
        == "p-" + urllib.parse.parse_qs(urllib.parse.urlsplit(art.url).query)["start"][0]
    )
    assert expected in mark.locator("strong").inner_text()
    assert mark_in_view(art)
    if lang_label:
        assert art.locator("html").get_attribute("lang") == "ru"
    art.screenshot(path=ARTIFACTS / f"ui-{name}-article.png")
    art.close()
    page.close()
    assert external(browser, server) == []


@pytest.mark.slow
def test_browser_no_answer_in_russian(browser, server):
    page, msg = ask_in_browser(browser, server, "Какая погода на Марсе?", "Русский")
    assert msg.inner_text().startswith(ui.render.NO_ANSWER["ru"])
    page.close()


@pytest.mark.slow
def test_browser_hostile_article_is_inert(browser, server):
    page, msg = ask_in_browser(browser, server, HOSTILE_Q)
    page.screenshot(path=ARTIFACTS / "ui-hostile.png", full_page=True)
    msg.locator("summary").click()  # the passages under "Sources" carry the hostile text too
    text = msg.inner_text()
    assert "Zebulon Quartermaine" in msg.locator("strong").first.inner_text()
    assert "<script>window.__pwned = 1</script>" in text  # shown as text, not run
    assert 'onerror="window.__pwned = 2"' in text
    assert msg.locator(ACTIVE).count() == 0
    hrefs = msg.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith("/article/") for h in hrefs), hrefs
    assert page.evaluate("() => window.__pwned") is None

    art = open_citation(browser, msg)
    body = art.locator("article")
    assert "<form action=" in body.inner_text() and "You have been hacked" in body.inner_text()
    assert body.locator(ACTIVE).count() == 0
    assert art.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href'))") == ["/"]
    assert art.evaluate("() => window.__pwned") is None
    assert mark_in_view(art)
    art.screenshot(path=ARTIFACTS / "ui-hostile-article.png")
    art.close()
    page.close()
    assert external(browser, server) == []


# ---- last: a rebuilt index is picked up without a restart --------------------------------------


@pytest.mark.slow
def test_new_index_without_restart(server, ui_settings, embedder):
    question = "Who repainted the lighthouse in Punta Arenas?"
    path = ui_settings.corpus / "en" / "901_reload.txt"
    path.write_text(
        "Punta Arenas lighthouse repainted\n\nPUNTA ARENAS, March 3. The lighthouse keeper "
        "Ottoline Brackenridge repainted the lighthouse in Punta Arenas on Thursday.\n",
        encoding="utf-8",
    )
    before = json.loads(api(server, question)[1])
    assert all(p["article"]["path"] != "en/901_reload.txt" for p in before["passages"])
    pipeline.build(ui_settings, embedder=embedder)
    after = json.loads(api(server, question)[1])
    assert after["answer"]["article"]["path"] == "en/901_reload.txt"
    assert "Brackenridge" in after["answer"]["text"]
