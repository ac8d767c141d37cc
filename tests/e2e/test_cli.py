"""The `qa` command on the real model and the real index: the --json contract, `qa show`
confirming offsets, bad questions, stdin batches, a damaged index, incremental `qa build`.
Help, usage errors and failures without an index: tests/unit/cli/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import ARTICLE_KEYS, assert_fails, check_contract, run

pytestmark = pytest.mark.slow

ISSUE_EN = "When did the US send its written response?"
ISSUE_RU = "Когда США передали России письменный ответ?"
QA_BIN = Path(sys.executable).parent / "qa"


def where(settings) -> list[str]:
    return ["--index", str(settings.index), "--corpus", str(settings.corpus), "-q"]


@pytest.mark.slow
def test_ask_without_index(tmp_path):
    """The real model: `qa ask` embeds the question before it opens the index (unit twin:
    tests/unit/cli/test_ask.py)."""
    result = run("ask", ISSUE_EN, "--index", tmp_path / "none", "--corpus", tmp_path)
    assert_fails(result, "qa build")


# ---- the real index ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def issue_json(real_pipeline, real_settings):
    result = run("ask", ISSUE_EN, "--json", *where(real_settings))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
def test_ask_json_contract(issue_json):
    check_contract(issue_json)
    assert issue_json["question"] == ISSUE_EN
    assert issue_json["language"] == "en"
    assert issue_json["answer"] is not None
    assert len(issue_json["passages"]) == 5


@pytest.mark.slow
def test_ask_json_stdout_is_only_json(real_pipeline, real_settings):
    """Without --quiet too: progress and notes go to stderr, stdout holds one JSON line."""
    args = ["--index", real_settings.index, "--corpus", real_settings.corpus]
    result = run("ask", ISSUE_RU, "--json", *args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    check_contract(obj)
    assert obj["language"] == "ru"


@pytest.mark.slow
def test_ask_text_output(real_pipeline, real_settings):
    result = run("ask", ISSUE_EN, *where(real_settings))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    assert "\033[" not in result.stdout  # no ANSI codes when stdout is not a terminal
    assert "Traceback" not in result.output


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_ask_lang_filter(real_pipeline, real_settings, lang):
    result = run("ask", ISSUE_EN, "--json", "--lang", lang, "-k", 3, *where(real_settings))
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)
    check_contract(obj)
    assert len(obj["passages"]) == 3
    assert {p["article"]["language"] for p in obj["passages"]} == {lang}
    if obj["answer"] is not None:
        assert obj["answer"]["article"]["language"] == lang


@pytest.mark.slow
def test_show_confirms_answer_offsets(issue_json, real_settings):
    ans = issue_json["answer"]
    result = run("show", ans["article"]["id"], "--json", *where(real_settings))
    assert result.exit_code == 0, result.output
    art = json.loads(result.stdout)
    assert ARTICLE_KEYS <= art.keys()
    assert art["id"] == ans["article"]["id"]
    assert art["text"][ans["start"] : ans["end"]] == ans["text"]
    for p in issue_json["passages"]:
        shown = json.loads(run("show", p["article"]["id"], "--json", *where(real_settings)).stdout)
        assert shown["text"][p["start"] : p["end"]] == p["text"]
    # By corpus path too, and as text.
    by_path = run("show", art["path"], "--json", *where(real_settings))
    assert json.loads(by_path.stdout) == art
    as_text = run("show", art["id"], *where(real_settings))
    assert as_text.exit_code == 0 and art["text"] in as_text.stdout


@pytest.mark.slow
def test_show_unknown_article(real_pipeline, real_settings):
    assert_fails(run("show", "nope", *where(real_settings)), "qa ask")


@pytest.mark.slow
@pytest.mark.parametrize(
    "question", ["", "   ", "\n\t", "?", "😉", "x" * 100_000, "why " * 25_000], ids=repr
)
def test_bad_questions(real_pipeline, real_settings, question):
    result = run("ask", question, "--json", *where(real_settings))
    assert_fails(result)


@pytest.mark.slow
def test_ask_stdin_two_questions(real_pipeline, real_settings):
    result = run("ask", "-", "--json", *where(real_settings), input=f"{ISSUE_EN}\n{ISSUE_RU}\n")
    assert result.exit_code == 0, result.output
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["question"] for o in objs] == [ISSUE_EN, ISSUE_RU]
    assert [o["language"] for o in objs] == ["en", "ru"]
    for o in objs:
        check_contract(o)


# ---- a damaged index -----------------------------------------------------------------------


def _garble(p: Path) -> None:
    p.write_bytes(b"\xde\xad" * (p.stat().st_size // 2) + b"\x00" * (p.stat().st_size % 2))


def _damage(folder: Path, how: str) -> None:
    version = folder / (folder / "CURRENT").read_text().strip()
    if how == "truncate-faiss":
        data = (version / "chunks.faiss").read_bytes()
        (version / "chunks.faiss").write_bytes(data[: len(data) // 2])
    elif how == "empty-faiss":
        (version / "chunks.faiss").write_bytes(b"")
    elif how == "garbage-manifest":
        (version / "manifest.json").write_text("{not json at all")
    elif how == "manifest-not-object":
        (version / "manifest.json").write_text("[1, 2, 3]")
    elif how == "manifest-old-format":
        m = json.loads((version / "manifest.json").read_text())
        (version / "manifest.json").write_text(json.dumps({**m, "format_version": 0}))
    elif how == "manifest-other-model":
        m = json.loads((version / "manifest.json").read_text())
        (version / "manifest.json").write_text(json.dumps({**m, "model": "some/other-model"}))
    elif how == "same-size-faiss":
        _garble(version / "chunks.faiss")
    elif how == "same-size-articles":
        _garble(version / "articles.jsonl")
    elif how == "same-size-sentences":
        _garble(version / "sentences.npy")
    elif how == "missing-lexical":
        shutil.rmtree(version / "lexical" / "en")
    elif how == "garbage-bm25":
        for p in (version / "lexical" / "en").rglob("*"):
            if p.is_file():
                _garble(p)
    elif how == "dangling-current":
        (folder / "CURRENT").write_text("v-does-not-exist")
    else:
        raise AssertionError(how)


DAMAGE = [
    "truncate-faiss",
    "empty-faiss",
    "garbage-manifest",
    "manifest-not-object",
    "manifest-old-format",
    "manifest-other-model",
    "same-size-faiss",
    "same-size-articles",
    "same-size-sentences",
    "missing-lexical",
    "garbage-bm25",
    "dangling-current",
]


@pytest.fixture
def damaged(real_pipeline, real_settings, tmp_path, request):
    folder = tmp_path / "index"
    shutil.copytree(real_settings.index, folder, ignore=shutil.ignore_patterns("LOCK"))
    _damage(folder, request.param)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("damaged", DAMAGE, indirect=True)
def test_damaged_index(damaged, real_settings):
    result = run("ask", ISSUE_EN, "--index", damaged, "--corpus", real_settings.corpus, "-q")
    assert_fails(result, "qa build --full")


@pytest.mark.slow
@pytest.mark.parametrize("damaged", ["truncate-faiss", "garbage-manifest"], indirect=True)
def test_damaged_index_subprocess(damaged, real_settings):
    """The real executable: exit 1, a one-line message, no traceback."""
    proc = subprocess.run(
        [QA_BIN, "ask", ISSUE_EN, "--index", damaged, "--corpus", real_settings.corpus],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "qa build --full" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize("question", ["", "   "], ids=repr)
def test_empty_question_subprocess(real_pipeline, real_settings, question):
    proc = subprocess.run(
        [QA_BIN, "ask", question, *where(real_settings)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("qa: error:") and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""


# ---- build -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_build_json_incremental(tmp_path, model_cache, monkeypatch):
    monkeypatch.setenv("QA_MODEL_CACHE", str(model_cache))
    corpus_dir, index_dir = tmp_path / "corpus", tmp_path / "index"
    (corpus_dir / "ru").mkdir(parents=True)
    (corpus_dir / "a.txt").write_text(
        "Lavrov met Blinken in Geneva for talks\n\nLavrov and Blinken held talks in Geneva "
        "on January 21. They spoke for two hours.\n"
    )
    (corpus_dir / "ru" / "a.txt").write_text(
        "Лавров встретился с Блинкеном в Женеве\n\nЛавров и Блинкен провели переговоры в "
        "Женеве 21 января. Они говорили два часа.\n"
    )
    (corpus_dir / "junk.txt").write_bytes(b"\x00\x01binary")
    args = ["--corpus", corpus_dir, "--index", index_dir, "-q"]

    first = run("build", "--json", *args)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert {"added", "updated", "removed", "unchanged", "problems", "version"} <= summary.keys()
    assert (summary["added"], summary["updated"], summary["removed"]) == (2, 0, 0)
    assert [p["path"] for p in summary["problems"]] == ["junk.txt"]

    again = json.loads(run("build", "--json", *args).stdout)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert again["chunks_embedded"] == 0

    (corpus_dir / "a.txt").write_text(
        "Lavrov met Blinken in Geneva for talks\n\nThey met on January 21.\n"
    )
    (corpus_dir / "ru" / "a.txt").unlink()
    changed = json.loads(run("build", "--json", *args).stdout)
    assert (changed["added"], changed["updated"], changed["removed"]) == (0, 1, 1)

    result = run("ask", "Where did Lavrov and Blinken meet?", "--json", *args)
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)
    check_contract(obj)
    assert {p["article"]["path"] for p in obj["passages"]} == {"a.txt"}

    full = json.loads(run("build", "--full", "--json", *args).stdout)
    assert full["added"] == 1 and full["unchanged"] == 0
