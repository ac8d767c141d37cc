"""Crash safety on the real model, the real corpus and the real `qa` executable.

`qa build` is SIGKILLed at every stage (QA_FAILPOINT) and at seeded random moments. Every time,
the live index must still load and answer an old question correctly, and hold either exactly
the old or exactly the new set of articles, never a mix; the next `qa build` must finish. A new
article's fact becomes answerable once it is built, and a removed article is never cited again.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from qa import pipeline, render
from qa.config import Settings
from qa.ingest import corpus
from qa.store import faiss_index as index
from qa.store import versions

pytestmark = pytest.mark.slow

QA_BIN = Path(sys.executable).parent / "qa"
OLD_Q = "When did the US send its written response?"
OLD_A = ("January 26", "26 января")
NEW_Q = "Where did the Zorvian ambassador sign the accord?"
NEW_PATH = "en/900_zorvia.txt"
NEW_TEXT = (
    "Zorvian envoy signs accord in Tallinn\n\n"
    "TALLINN, March 3 - The Zorvian ambassador signed the accord in Tallinn on 3 March 2022. "
    "The ceremony at the Estonian foreign ministry lasted twenty minutes. Officials said the "
    "accord covers fishing rights in the Baltic Sea.\n"
)
STAGES = ["locked", "loaded", "embedded", *versions.SAVE_STAGES]
RANDOM_KILLS = 4


@pytest.fixture
def crash_settings(tmp_path, real_pipeline, real_settings) -> Settings:
    """A copy of the session's real corpus and index (so nothing old is embedded again)."""
    shutil.copytree(real_settings.corpus, tmp_path / "corpus")
    shutil.copytree(real_settings.index, tmp_path / "index", ignore=shutil.ignore_patterns("LOCK"))
    return replace(real_settings, corpus=tmp_path / "corpus", index=tmp_path / "index")


def where(s: Settings) -> list[str]:
    return ["--corpus", str(s.corpus), "--index", str(s.index), "-q"]


def start_build(s: Settings, failpoint: str | None = None) -> subprocess.Popen:
    """Start `qa build --json` in the background (with a failpoint, or none)."""
    env = {k: v for k, v in os.environ.items() if k != "QA_FAILPOINT"}
    env["QA_MODEL_CACHE"] = str(s.model_cache)
    if failpoint:
        env["QA_FAILPOINT"] = failpoint
    return subprocess.Popen(
        [QA_BIN, "build", "--json", *where(s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def qa_build(s: Settings, failpoint: str | None = None, kill_after: float | None = None):
    """Run `qa build --json`; kill it with SIGKILL after ``kill_after`` seconds if still alive.
    Returns (returncode, stdout, stderr)."""
    proc = start_build(s, failpoint)
    try:
        proc.wait(timeout=kill_after if kill_after is not None else 600)
    except subprocess.TimeoutExpired:
        if kill_after is None:
            raise
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def qa_ask_json(s: Settings, question: str) -> dict:
    env = {**os.environ, "QA_MODEL_CACHE": str(s.model_cache)}
    proc = subprocess.run(
        [QA_BIN, "ask", question, "--json", *where(s)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def normalize(s: str | None) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", (s or "").lower()).split())


def is_old_answer(text: str | None) -> bool:
    return any(normalize(a) in normalize(text) for a in OLD_A)


def ask(s: Settings, embedder, question: str) -> tuple[dict, set[str]]:
    """A fresh reader (as `qa ask` is): the --json object and the paths of every article any
    of its hits (not only the k shown) or its answer comes from."""
    pipe = pipeline.Pipeline(s, embedder=embedder)
    ans = pipe.ask(question)
    obj = render.answer_json(ans, s.k)
    cited = {pipe.index.articles[h.chunk.article_id].path for h in ans.hits}
    cited |= {pipe.index.articles[a].path for h in ans.hits for a in h.also_in}
    if ans.article_id:
        cited |= {pipe.index.articles[a].path for a in (ans.article_id, *ans.also_in)}
    return obj, cited


def set_corpus(s: Settings, with_new: bool) -> None:
    path = s.corpus / NEW_PATH
    if with_new:
        path.write_text(NEW_TEXT, encoding="utf-8")
    else:
        path.unlink(missing_ok=True)


def check_serving(s: Settings, embedder, base: set[str]) -> bool:
    """The live version loads whole and answers the old question; it holds exactly the old or
    exactly the new articles, and answers agree with which. Returns whether it has the new one."""
    idx = index.load(s.index, embedder.model_id)
    assert idx.faiss.ntotal == len(idx.chunks) and len(idx.sentence_vecs) == len(idx.sentences)
    held = {a.path for a in idx.articles.values()}
    has_new = NEW_PATH in held
    assert held == base | ({NEW_PATH} if has_new else set())
    old, old_cited = ask(s, embedder, OLD_Q)
    assert old["answer"] and is_old_answer(old["answer"]["text"]), old["answer"]
    new, new_cited = ask(s, embedder, NEW_Q)
    if has_new:
        assert new["answer"]["article"]["path"] == NEW_PATH, new["answer"]
        assert "Tallinn" in new["answer"]["text"]
    else:
        assert NEW_PATH not in old_cited | new_cited
    return has_new


def check_clean(s: Settings) -> None:
    """After a completed build: no leftovers, only the live version and the one before it."""
    live = index.current_version(s.index)
    previous = json.loads((s.index / live / "manifest.json").read_text())["previous"]
    assert {p.name for p in s.index.glob("v-*")} == {live, previous}
    assert not list(s.index.glob(".tmp-*")) and not list(s.index.glob(".CURRENT.*"))


def test_killed_builds_never_lose_the_index(crash_settings, embedder):
    s = crash_settings
    base = {a.path for a in index.load(s.index).articles.values()}
    assert check_serving(s, embedder, base) is False

    # A normal build adds the article (and tells how long a build takes, for the random kills).
    set_corpus(s, True)
    t0 = time.monotonic()
    rc, out, err = qa_build(s)
    duration = time.monotonic() - t0
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["added"] == 1 and summary["unchanged"] == len(base)
    assert 0 < summary["chunks_embedded"] < 10  # the new article only
    live = check_serving(s, embedder, base)
    assert live is True
    honest = qa_ask_json(s, NEW_Q)  # the real executable agrees
    assert honest["answer"]["article"]["path"] == NEW_PATH and "Tallinn" in honest["answer"]["text"]

    # Killed at every stage, with a change pending (alternately adding and removing the article).
    for stage in STAGES:
        set_corpus(s, not live)
        rc, out, err = qa_build(s, failpoint=stage)
        assert rc == -signal.SIGKILL, f"{stage}: rc={rc} {err}"
        now = check_serving(s, embedder, base)
        # Before the switch the old version serves; at "switched" the new one already does.
        assert now == (not live if stage == "switched" else live), stage
        live = now
        if stage in ("embedded", "renamed", "switched"):  # the next build finishes the job
            rc, out, err = qa_build(s)
            assert rc == 0, err
            live = check_serving(s, embedder, base)
            assert live == (s.corpus / NEW_PATH).exists()
            check_clean(s)

    # Killed at random moments of a build that adds the article.
    rng = random.Random(4)
    killed = 0
    for when in [rng.uniform(0.1, 0.9 * duration) for _ in range(RANDOM_KILLS)]:
        if live:
            set_corpus(s, False)
            assert qa_build(s)[0] == 0
        set_corpus(s, True)
        rc, out, err = qa_build(s, kill_after=when)
        assert rc in (0, -signal.SIGKILL), f"killed after {when:.1f}s: rc={rc} {err}"
        killed += rc == -signal.SIGKILL
        live = check_serving(s, embedder, base)
        assert live or rc != 0
    assert killed, "every build finished before its kill: nothing was tested"

    # The next build completes and the fact is answerable...
    rc, out, err = qa_build(s)
    assert rc == 0, err
    assert check_serving(s, embedder, base) is True
    check_clean(s)

    # ...and once the article is removed it is never cited again.
    set_corpus(s, False)
    rc, out, err = qa_build(s)
    assert rc == 0, err
    assert json.loads(out)["files"]["removed"] == [NEW_PATH]
    assert check_serving(s, embedder, base) is False
    gone = corpus.article_id(NEW_PATH)
    idx = index.load(s.index)
    assert gone not in idx.articles and all(c.article_id != gone for c in idx.chunks)
    for q in (NEW_Q, "Who signed the accord in Tallinn?", "Где подписали соглашение?"):
        _, cited = ask(s, embedder, q)
        assert NEW_PATH not in cited, q
    honest = qa_ask_json(s, NEW_Q)
    shown = [p["article"]["path"] for p in honest["passages"]]
    assert NEW_PATH not in shown and NEW_PATH not in json.dumps(honest)


def test_readers_keep_answering_during_a_build(crash_settings, embedder):
    """A reader opened before a build answers from the old version while `qa build` runs, and
    from the new one after it, without a restart."""
    s = crash_settings
    pipe = pipeline.Pipeline(s, embedder=embedder)
    before = pipe.index.version
    assert is_old_answer(pipe.ask(OLD_Q).text)
    set_corpus(s, True)
    proc = start_build(s)
    during = []
    while proc.poll() is None:
        ans = pipe.ask(OLD_Q)
        during.append((pipe.index.version, ans.text, {h.chunk.article_id for h in ans.hits}))
        time.sleep(0.2)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    new = json.loads(out)["version"]
    assert during and all(is_old_answer(text) for _, text, _ in during)
    assert {v for v, _, _ in during} <= {before, new}
    assert any(v == before for v, _, _ in during)
    for v, _, ids in during:
        if v == before:
            assert corpus.article_id(NEW_PATH) not in ids
    ans = pipe.ask(NEW_Q)
    assert pipe.index.version == new
    assert "Tallinn" in ans.text and pipe.index.articles[ans.article_id].path == NEW_PATH
