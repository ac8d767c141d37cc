"""Index versions (qa.store.versions): the build lock, garbage collection, crash leftovers,
and builds SIGKILLed at every stage (fake embedder, so fast; tests/e2e/test_crash.py does it
on the real model and CLI, and at random moments)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qa import intake, pipeline
from qa.config import Settings
from qa.errors import QAError
from qa.store import faiss_index as index
from qa.store import versions as store_versions
from tests.samples import ARTICLES, NEW
from tests.samples import indexed_paths as paths
from tests.samples import load_index as load

ROOT = Path(__file__).resolve().parents[3]


def versions(root: Path) -> set[str]:
    return {p.name for p in root.glob("v-*")}


def test_second_build_refused_while_one_runs(built, fake):
    (built.corpus / "en" / "zorvia.txt").write_text(NEW, encoding="utf-8")
    before = index.current_version(built.index)
    with store_versions.build_lock(built.index):
        with pytest.raises(QAError, match="another") as e:
            pipeline.build(built, embedder=fake)
        assert "\n" not in str(e.value)
        with pytest.raises(QAError, match="another"):
            intake.add(built, [built.corpus / "en" / "zorvia.txt"], embedder=fake)
    assert index.current_version(built.index) == before and fake.embedded == []
    # The lock is released, also after a failed build.
    assert pipeline.build(built, embedder=fake).added == ["en/zorvia.txt"]
    with pytest.raises(QAError):
        pipeline.build(built.with_(chunk_sentences=5), embedder=fake)
    assert pipeline.build(built, embedder=fake).unchanged == len(ARTICLES) + 1


def test_second_build_refused_across_processes(built, fake):
    """flock, not a pid file: a lock held by another process is seen, and dies with it."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from qa.store import versions as store_versions
        with store_versions.build_lock(Path({str(built.index)!r})):
            print("locked", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(QAError, match=rf"another `qa build` \(pid {proc.pid}\)"):
            pipeline.build(built, embedder=fake)
    finally:
        proc.kill()
        proc.wait()
    assert pipeline.build(built, embedder=fake).unchanged == len(ARTICLES)


def _change(settings: Settings, n: int) -> None:
    (settings.corpus / "en" / "counter.txt").write_text(
        f"Counter article\n\nThis is revision number {n} of the counter article.\n"
    )


def test_gc_keeps_current_and_previous(built, fake):
    seen = [index.current_version(built.index)]
    for n in range(4):
        _change(built, n)
        seen.append(pipeline.build(built, embedder=fake).version)
    assert len(set(seen)) == 5
    assert versions(built.index) == set(seen[-2:])
    assert load(built).manifest["previous"] == seen[-2]
    # The previous version is whole: a reader that opened it before the switch can finish.
    (built.index / index.CURRENT).write_text(seen[-2])
    assert "revision number 2" in next(
        a.text for a in load(built).articles.values() if a.path == "en/counter.txt"
    )


def test_crash_leftovers_cleaned_by_next_build(built, fake):
    live = index.current_version(built.index)
    _change(built, 0)
    pipeline.build(built, embedder=fake)
    previous, live = live, index.current_version(built.index)
    # What builds killed mid-way leave behind: a half-written version, a whole version that
    # was never switched to (named later than the live one), a half-written CURRENT pointer.
    (built.index / ".tmp-v-20990101T000000-dead01").mkdir()
    (built.index / ".tmp-v-20990101T000000-dead01" / "chunks.faiss").write_bytes(b"\0" * 10)
    shutil.copytree(built.index / live, built.index / "v-20990101T000000-orphan")
    (built.index / ".CURRENT.abc123").write_text("v-20990101T000000-orp")
    assert load(built).version == live  # none of it disturbs readers
    _change(built, 1)
    new = pipeline.build(built, embedder=fake).version
    assert sorted(p.name for p in built.index.iterdir()) == sorted(
        [index.CURRENT, "LOCK", live, new]
    )
    assert previous not in versions(built.index)


def test_noop_build_cleans_leftovers(built, fake):
    live = index.current_version(built.index)
    (built.index / ".tmp-v-20990101T000000-dead02").mkdir()
    shutil.copytree(built.index / live, built.index / "v-20990101T000000-orphan")
    report = pipeline.build(built, embedder=fake)
    assert report.unchanged == len(ARTICLES) and report.version == live
    assert versions(built.index) == {live}
    assert not list(built.index.glob(".tmp-*"))


STAGES = ["locked", "loaded", "embedded", *store_versions.SAVE_STAGES]


@pytest.mark.parametrize("stage", STAGES)
def test_killed_build_leaves_previous_index(built, fake, stage):
    """SIGKILL at each stage (fake embedder, so fast): the previous version still loads with
    its articles; the next build finishes and cleans up. tests/e2e/test_crash.py does this on
    the real model and CLI, and at random moments."""
    before = load(built)
    (built.corpus / "en" / "zorvia.txt").write_text(NEW, encoding="utf-8")
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from tests.samples import FakeEmbedder
        from qa import pipeline
        from qa.config import Settings
        s = Settings(corpus=Path({str(built.corpus)!r}), index=Path({str(built.index)!r}),
                     quiet=True, failpoint={stage!r})
        pipeline.build(s, embedder=FakeEmbedder())
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    after = load(built)
    if stage == "switched":  # the switch happened: the new version is whole and live
        assert "en/zorvia.txt" in paths(after)
    else:
        assert after.version == before.version and paths(after) == set(ARTICLES)
    report = pipeline.build(built, embedder=fake)
    assert "en/zorvia.txt" in paths(load(built))
    assert report.added == ([] if stage == "switched" else ["en/zorvia.txt"])
    assert not list(built.index.glob(".tmp-*")) and not list(built.index.glob(".CURRENT.*"))
    assert versions(built.index) == {load(built).version, before.version}
