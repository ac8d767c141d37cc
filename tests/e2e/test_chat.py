"""Conversations end to end, on the real model and corpus: the conversations of
tests/fixtures/conversations.json answered with and without their history, `qa chat` through a
pipe and through a pseudo-terminal, `/api/ask?history=`, and real Chromium holding a two-turn
conversation in the web chat."""

from __future__ import annotations

import importlib.util
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa import pipeline
from qa.cli import cli
from tests.browser import chromium

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CONVERSATIONS = json.loads((ROOT / "tests/fixtures/conversations.json").read_text("utf-8"))
BLINKEN = ["Who is the US Secretary of State?", "When did he hold talks with Lavrov?"]
KULEBA = ["Who is Ukraine's Foreign Minister?", "When did he brief reporters?"]
DRAFTS = ["Когда МИД России опубликовал проекты договора?", "А с кем?"]


def where(settings) -> list[str]:
    return ["--index", str(settings.index), "--corpus", str(settings.corpus), "-q"]


def correct(ans, expect) -> bool:
    """Any expected string in the answer (or its resolved date); None: no answer expected."""
    if expect is None:
        return ans.text is None
    resolved = ((ans.news or {}).get("resolved_date") or {}).get("display", "")
    got = f"{ans.text or ''} {resolved}".lower()
    return ans.text is not None and any(e.lower() in got for e in expect)


# ---- the conversations, with and without their history -----------------------------------------


@pytest.fixture(scope="module")
def turns(real_pipeline) -> list[dict]:
    """Every turn answered in its conversation and, for the follow-up turns, alone."""
    rows = []
    for conv in CONVERSATIONS["conversations"]:
        previous = None
        for i, turn in enumerate(conv["turns"]):
            ans = real_pipeline.ask(turn["q"], previous=previous)
            previous = pipeline.turn_of(ans)
            alone = real_pipeline.ask(turn["q"]) if i else ans
            rows.append(
                {
                    "conversation": conv["id"],
                    "lang": conv["lang"],
                    "turn": i + 1,
                    "question": turn["q"],
                    "followup": turn["followup"],
                    "interpreted_as": ans.interpreted_as,
                    "answer": ans.text,
                    "right": correct(ans, turn["expect"]),
                    "alone": alone.text,
                    "right_alone": correct(alone, turn["expect"]),
                }
            )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "conversations.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    return rows


def test_followups_are_told_from_standalone_questions(turns):
    """Each follow-up is rewritten; each question that stands on its own (the first turn, a
    topic switch, an unanswerable question in the middle) is taken as asked."""
    wrong = [
        (t["question"], t["interpreted_as"])
        for t in turns
        if (t["interpreted_as"] is not None) != t["followup"]
    ]
    assert wrong == []


def test_history_answers_follow_ups(turns):
    """Later turns are answered right far more often with the history than alone, and what
    is not answered right is mostly declined, not answered wrong (right, or silent)."""
    later = [t for t in turns if t["turn"] > 1]
    table = {}
    for lang in ("en", "ru"):
        rows = [t for t in later if t["lang"] == lang]
        table[lang] = (
            sum(t["right"] for t in rows),
            sum(t["right_alone"] for t in rows),
            len(rows),
        )
    print("later turns right, with history / alone / of:", table)
    with_h = sum(v[0] for v in table.values())
    alone = sum(v[1] for v in table.values())
    assert with_h >= 0.6 * len(later) and with_h >= alone + 4, table
    wrong = [t for t in later if t["answer"] is not None and not t["right"]]
    assert len(wrong) <= 0.15 * len(later), wrong
    for lang, (w, a, _) in table.items():
        assert w > a, (lang, table)
    standalone = [t for t in later if not t["followup"]]
    assert all(t["answer"] == t["alone"] for t in standalone)  # history did not drag them along


# ---- qa chat ---------------------------------------------------------------------------------


def test_chat_json_through_a_pipe(real_pipeline, real_settings):
    """One object per turn: the `qa ask --json` object plus interpreted_as; /reset starts over;
    a line that is no question gives an error object and exit code 1, and the chat goes on."""
    lines = [*BLINKEN, "/reset", BLINKEN[1], "?", *DRAFTS]
    result = CliRunner().invoke(
        cli, ["chat", "--json", *where(real_settings)], input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 1, result.output
    objs = [json.loads(x) for x in result.stdout.splitlines()]
    assert [o["question"] for o in objs] == [*BLINKEN, BLINKEN[1], "?", *DRAFTS]
    first, second, after_reset, error, ru_first, ru_second = objs
    assert "Blinken" in first["answer"]["text"] and first["interpreted_as"] is None
    assert second["interpreted_as"] == "When did Antony Blinken hold talks with Lavrov?"
    assert after_reset["interpreted_as"] is None
    assert "error" in error
    assert ru_first["interpreted_as"] is None
    assert ru_second["interpreted_as"].startswith("С кем МИД России опубликовал проекты договора")
    assert {"США", "НАТО"} & set(ru_second["answer"]["text"].split())
    # A first turn is exactly what `qa ask --json` prints.
    alone = CliRunner().invoke(cli, ["ask", BLINKEN[0], "--json", *where(real_settings)])
    assert alone.stdout.splitlines()[0] == result.stdout.splitlines()[0]
    assert list(json.loads(alone.stdout))[-1] == "interpreted_as"


def test_chat_text_through_an_os_pipe(real_pipeline, real_settings):
    """A real process reading a real pipe: each answer, and how each follow-up was read."""
    proc = subprocess.run(
        [sys.executable, "-m", "qa", "chat", *where(real_settings)],
        input="\n".join([*BLINKEN, *DRAFTS]) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QA_MODEL_CACHE": str(real_settings.model_cache)},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Understood as: When did Antony Blinken hold talks with Lavrov?" in out
    assert "Вопрос понят как: С кем МИД России опубликовал проекты договора" in out
    assert out.count("Sources:") == 4 and "\033[" not in out


class Terminal:
    """A process on a pseudo-terminal: type lines, read until a pattern shows."""

    def __init__(self, args: list[str], env: dict):
        self.fd, child = pty.openpty()
        self.proc = subprocess.Popen(
            args, stdin=child, stdout=child, stderr=child, cwd=ROOT, env=env, close_fds=True
        )
        os.close(child)
        self.buf = b""

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def expect(self, pattern: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern.encode(), self.buf, re.S)
            if m:
                seen, self.buf = self.buf[: m.end()], self.buf[m.end() :]
                return seen.decode(errors="replace")
            if select.select([self.fd], [], [], 0.5)[0]:
                try:
                    self.buf += os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    break
        raise AssertionError(f"no {pattern!r} in {self.buf[-800:]!r}")


def test_chat_on_a_terminal(real_pipeline, real_settings):
    """The interactive chat: a prompt, an answer in bold, the up arrow recalls the last
    question (readline), a follow-up, /reset, and Ctrl-D leaves with exit code 0."""
    env = {**os.environ, "TERM": "xterm", "QA_MODEL_CACHE": str(real_settings.model_cache)}
    args = [sys.executable, "-m", "qa", "chat", "-k", "1"]
    term = Terminal(args + ["--index", str(real_settings.index)], env)
    try:
        assert "/reset" in term.expect(r"Ctrl-D leaves.*?\? ")
        term.type(BLINKEN[0] + "\r")
        shown = term.expect(r"Sources:.*?\? ")
        assert "\033[1mAntony Blinken\033[0m" in shown
        term.type("\x1b[A\r")  # up arrow, Enter: the same question again
        assert "Antony Blinken" in term.expect(r"Sources:.*?\? ")
        term.type(BLINKEN[1] + "\r")
        assert "Understood as: When did Antony Blinken" in term.expect(r"Sources:.*?\? ")
        term.type("/reset\r")
        term.expect(r"new conversation.*?\? ")
        term.type(BLINKEN[1] + "\r")
        assert "Understood as" not in term.expect(r"(Sources:|No answer).*?\? ")
        term.type("\x04")  # Ctrl-D
        assert term.proc.wait(timeout=30) == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
        os.close(term.fd)


# ---- the web app: /api/ask?history= and the chat in Chromium ---------------------------------


def _load_ui():
    spec = importlib.util.spec_from_file_location("load_ui", ROOT / "bench" / "load_ui.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def server(real_pipeline, real_settings, tmp_path_factory):
    """`qa serve` from this checkout on a free 127.0.0.1 port."""
    load_ui = _load_ui()
    port = load_ui.free_port()
    log = open(tmp_path_factory.mktemp("serve") / "serve.log", "wb")
    args = [sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, **load_ui.OFFLINE, "QA_MODEL_CACHE": str(real_settings.model_cache)}
    proc = subprocess.Popen(
        args + where(real_settings), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env
    )
    base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 240
    while time.monotonic() < deadline:
        assert proc.poll() is None, "qa serve exited"
        try:
            with urllib.request.urlopen(base + "/", timeout=2):
                break
        except OSError:
            time.sleep(0.5)
    yield base
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def api(base: str, q: str, history=()) -> dict:
    query = urllib.parse.urlencode([("q", q), *(("history", h) for h in history)])
    with urllib.request.urlopen(f"{base}/api/ask?{query}", timeout=120) as r:
        return json.loads(r.read().decode("utf-8"))


def test_api_history_is_the_chat(server, real_settings):
    """GET /api/ask?q=..&history=.. answers q as the follow-up of the earlier questions, the
    object `qa chat --json` prints for that turn; without history, `qa ask --json`'s."""
    lines = [BLINKEN[0], BLINKEN[1], "In which city?"]
    chat = CliRunner().invoke(
        cli, ["chat", "--json", *where(real_settings)], input="\n".join(lines)
    )
    objs = [json.loads(x) for x in chat.stdout.splitlines()]
    for i, expected in enumerate(objs):
        assert api(server, lines[i], lines[:i]) == expected
    assert objs[2]["interpreted_as"].startswith("In which city did Antony Blinken")
    assert api(server, lines[2])["interpreted_as"] is None  # no history: taken as asked


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("profile"), height=1500) as ctx:
        yield ctx


def test_browser_two_turn_conversation(browser, server):
    """Ask, then a follow-up: the second answer's headline and its "Understood as" line; then
    "New conversation" empties the chat and shows the example questions, which run on click."""
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(server + "/")
    box = page.locator("textarea").first
    answers = page.locator("[data-testid=bot] .md")
    for n, question in enumerate(KULEBA, 1):
        expect(box).to_be_editable()
        box.fill(question)
        box.press("Enter")
        expect(answers).to_have_count(n, timeout=60_000)
    expect(box).to_be_editable()  # the final update re-renders the chat
    second = answers.nth(1)
    understood = second.locator("p").first.inner_text()
    assert understood == "Understood as: When did Dmytro Kuleba brief reporters?"
    assert "Wednesday" in second.locator("h3").inner_text()
    assert re.search(r"(likely|uncertain) · confidence 0\.\d\d", second.inner_text())
    assert "Wednesday" in second.locator("blockquote strong").inner_text()
    assert answers.nth(0).locator("h3").inner_text() == "Dmytro Kuleba"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "chat-two-turns.png", full_page=True)

    page.get_by_role("button", name=re.compile("New conversation")).click()
    expect(answers).to_have_count(0)
    example = page.get_by_role("button", name=re.compile("Кто министр иностранных дел Украины"))
    expect(example).to_be_visible()
    example.click()
    expect(answers).to_have_count(1, timeout=60_000)
    assert "Кулеба" in answers.first.locator("h3").inner_text()
    assert "Вопрос понят как" not in answers.first.inner_text()  # a new conversation
    page.close()
