"""The on-disk index and incremental builds, on a small synthetic corpus with a fake embedder.

The fake gives every text a fixed random unit vector (seeded by a hash of the text), so these
tests run in seconds and can count exactly what each build embeds. The real model and the real
corpus are in test_crash.py and test_seed_questions.py.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa import indexer, intake, pipeline
from qa.cli import cli
from qa.config import Settings
from qa.embed.embedder import DIM, MODEL_ID
from qa.errors import QAError
from qa.ingest import corpus
from qa.store import faiss_index as index
from qa.store import versions as store_versions

ARTICLES = {
    "en/geneva.txt": "Lavrov met Blinken in Geneva\n\nLavrov and Blinken held talks in Geneva "
    "on January 21. They spoke for two hours. Both sides called the talks useful.\n",
    "en/kyiv.txt": "Blinken visits Kyiv\n\nAntony Blinken arrived in Kyiv on January 19. He met "
    "President Zelensky. The visit lasted one day.\n",
    "en/nato.txt": "NATO answers Moscow\n\nNATO sent its written answer on January 26. Jens "
    "Stoltenberg presented it in Brussels. Moscow said it would study the text.\n",
    "ru/geneva.txt": "Лавров встретился с Блинкеном в Женеве\n\nЛавров и Блинкен провели "
    "переговоры в Женеве 21 января. Они говорили два часа. Стороны назвали встречу полезной.\n",
    "ru/kyiv.txt": "Блинкен прибыл в Киев\n\nЭнтони Блинкен прибыл в Киев 19 января. Он "
    "встретился с президентом Зеленским. Визит продлился один день.\n",
}
NEW = (
    "Zorvian envoy in Tallinn\n\nThe Zorvian ambassador signed the accord in Tallinn on "
    "3 March 2022. The ceremony was brief. Quokkaberry wine was served.\n"
)


class FakeEmbedder:
    """The Embedder interface with deterministic unit vectors; counts what it is asked to embed."""

    def __init__(self, model_id: str = "fake/hash-embedder"):
        self._model_id = model_id
        self.embedded: list[str] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @staticmethod
    def _vec(text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
        return v / np.linalg.norm(v)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self._vec(t) for t in texts])

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.embedded.extend(texts)
        return self._encode(texts)


@pytest.fixture
def fake() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def settings(tmp_path) -> Settings:
    for rel, text in ARTICLES.items():
        (tmp_path / "corpus" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "corpus" / rel).write_text(text, encoding="utf-8")
    return Settings(corpus=tmp_path / "corpus", index=tmp_path / "index", quiet=True)


@pytest.fixture
def built(settings, fake) -> Settings:
    report = pipeline.build(settings, embedder=fake)
    assert len(report.added) == len(ARTICLES)
    fake.embedded.clear()
    return settings


def load(settings: Settings) -> index.Index:
    return index.load(settings.index)


def paths(idx: index.Index) -> set[str]:
    return {a.path for a in idx.articles.values()}


def versions(root: Path) -> set[str]:
    return {p.name for p in root.glob("v-*")}


def n_texts(idx: index.Index, path: str) -> int:
    """Chunks + sentences of one article: what embedding it costs."""
    e = next(e for e in idx.entries if e.article.path == path)
    return len(e.chunks) + len(e.sentences)


def lexical_paths(idx: index.Index, lang: str, word: str) -> set[str]:
    from qa.store import lexical

    rows = idx.lexical[lang].search(lexical.tokens(word, lang), 10)
    return {idx.articles[idx.chunks[r].article_id].path for r, _ in rows}


# ---- incremental builds ----------------------------------------------------------------------


def test_first_build_embeds_everything(settings, fake):
    report = pipeline.build(settings, embedder=fake)
    idx = load(settings)
    assert sorted(report.added) == sorted(ARTICLES)
    assert report.chunks_embedded == len(idx.chunks)
    assert report.sentences_embedded == len(idx.sentences)
    assert len(fake.embedded) == len(idx.chunks) + len(idx.sentences)
    assert report.version == idx.version == index.current_version(settings.index)
    assert idx.faiss.ntotal == len(idx.chunks) == idx.manifest["n_chunks"]
    for c in idx.chunks:
        assert idx.articles[c.article_id].text[c.start : c.end] == c.text


def test_unchanged_corpus_embeds_nothing(built, fake):
    before = index.current_version(built.index)
    report = pipeline.build(built, embedder=fake)
    assert report.unchanged == len(ARTICLES)
    assert (report.added, report.updated, report.removed) == ([], [], [])
    assert fake.embedded == [] and report.chunks_embedded == 0
    assert report.version == before == index.current_version(built.index)


def test_incremental_embeds_only_new_and_changed(built, fake):
    old = load(built)
    old_vecs = {e.article.path: e for e in old.reusable().values()}
    (built.corpus / "en" / "zorvia.txt").write_text(NEW, encoding="utf-8")
    (built.corpus / "en" / "kyiv.txt").write_text(
        ARTICLES["en/kyiv.txt"].replace("one day", "three days"), encoding="utf-8"
    )
    report = pipeline.build(built, embedder=fake)
    idx = load(built)
    assert report.added == ["en/zorvia.txt"] and report.updated == ["en/kyiv.txt"]
    assert report.unchanged == len(ARTICLES) - 1 and report.removed == []
    want = n_texts(idx, "en/zorvia.txt") + n_texts(idx, "en/kyiv.txt")
    assert len(fake.embedded) == want == report.chunks_embedded + report.sentences_embedded
    assert "three days" in " ".join(fake.embedded) and "Quokkaberry" in " ".join(fake.embedded)
    assert not any("Stoltenberg" in t for t in fake.embedded)
    # Unchanged articles keep their vectors (copied, not re-embedded), rows stay aligned.
    for e in idx.reusable().values():
        if e.article.path in old_vecs and e.article.path != "en/kyiv.txt":
            np.testing.assert_array_equal(e.chunk_vecs, old_vecs[e.article.path].chunk_vecs)
            np.testing.assert_array_equal(e.sentence_vecs, old_vecs[e.article.path].sentence_vecs)
        for c, v in zip(e.chunks, e.chunk_vecs, strict=True):
            np.testing.assert_allclose(v, FakeEmbedder._vec(c.text), atol=1e-6)
    # The lexical index follows: the new word is found, in the new article only.
    assert lexical_paths(idx, "en", "Quokkaberry") == {"en/zorvia.txt"}
    assert lexical_paths(idx, "en", "three") == {"en/kyiv.txt"}


def test_removal_drops_chunks(built, fake):
    (built.corpus / "en" / "nato.txt").unlink()
    (built.corpus / "ru" / "kyiv.txt").unlink()
    report = pipeline.build(built, embedder=fake)
    assert report.removed == ["en/nato.txt", "ru/kyiv.txt"]
    assert fake.embedded == []
    idx = load(built)
    assert paths(idx) == set(ARTICLES) - {"en/nato.txt", "ru/kyiv.txt"}
    gone = {corpus.article_id("en/nato.txt"), corpus.article_id("ru/kyiv.txt")}
    assert not any(c.article_id in gone for c in idx.chunks)
    assert not any(s.article_id in gone for s in idx.sentences)
    assert idx.faiss.ntotal == len(idx.chunks) and len(idx.sentence_vecs) == len(idx.sentences)
    assert lexical_paths(idx, "en", "Stoltenberg") == set()
    assert lexical_paths(idx, "ru", "Зеленским") == set()


def test_full_rebuild(built, fake):
    report = pipeline.build(built, full=True, embedder=fake)
    idx = load(built)
    assert sorted(report.added) == sorted(ARTICLES) and report.unchanged == 0
    assert len(fake.embedded) == len(idx.chunks) + len(idx.sentences)


@pytest.mark.parametrize("change", [{"chunk_sentences": 2}, {"chunk_stride": 2}])
def test_chunk_setting_change_needs_full(built, fake, change):
    before = index.current_version(built.index)
    changed = built.with_(**change)
    with pytest.raises(QAError, match="qa build --full") as e:
        pipeline.build(changed, embedder=fake)
    assert next(iter(change)) in str(e.value) and "\n" not in str(e.value)
    assert fake.embedded == [] and index.current_version(built.index) == before
    report = pipeline.build(changed, full=True, embedder=fake)
    assert len(report.added) == len(ARTICLES)
    assert load(built).manifest[next(iter(change))] == next(iter(change.values()))


def test_model_change_needs_full(built):
    other = FakeEmbedder("fake/another-model")
    with pytest.raises(QAError, match="qa build --full"):
        pipeline.build(built, embedder=other)
    with pytest.raises(index.IndexCorrupt, match="qa build --full"):
        index.load(built.index, other.model_id)
    pipeline.build(built, full=True, embedder=other)
    assert index.load(built.index, other.model_id).manifest["model"] == other.model_id


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


# ---- a damaged index: one line that names the fix -----------------------------------------


def _live(settings: Settings) -> Path:
    return settings.index / index.current_version(settings.index)


def _rewrite_manifest(folder: Path, **changes) -> None:
    m = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**m, **changes}))


def _resize(folder: Path) -> None:
    """Make the manifest's file sizes match the (tampered) files again."""
    m = json.loads((folder / "manifest.json").read_text())
    _rewrite_manifest(folder, files={f: (folder / f).stat().st_size for f in m["files"]})


def _damage(folder: Path, how: str) -> None:
    import faiss

    if how == "truncated-faiss":
        data = (folder / "chunks.faiss").read_bytes()
        (folder / "chunks.faiss").write_bytes(data[: len(data) // 2])
    elif how == "truncated-sentences":
        data = (folder / "sentences.npy").read_bytes()
        (folder / "sentences.npy").write_bytes(data[:-100])
    elif how == "truncated-sentences-same-manifest":  # a truncated file the sizes agree with
        data = (folder / "sentences.npy").read_bytes()
        (folder / "sentences.npy").write_bytes(data[:-100])
        _resize(folder)
    elif how == "format-version":
        _rewrite_manifest(folder, format_version=index.FORMAT_VERSION + 1)
    elif how == "vector-count":  # a whole, readable FAISS file with one vector too few
        old = faiss.read_index(str(folder / "chunks.faiss"))
        fewer = faiss.IndexFlatIP(old.d)
        fewer.add(old.reconstruct_n(0, old.ntotal - 1))
        faiss.write_index(fewer, str(folder / "chunks.faiss"))
        _resize(folder)
    elif how == "sentence-count":
        vecs = np.load(folder / "sentences.npy")
        np.save(folder / "sentences.npy", vecs[:-1])
        _resize(folder)
    elif how == "chunk-count":
        _rewrite_manifest(folder, n_chunks=1)
    elif how == "missing-manifest":
        (folder / "manifest.json").unlink()
    elif how == "truncated-articles":
        data = (folder / "articles.jsonl").read_bytes()
        (folder / "articles.jsonl").write_bytes(data[: len(data) // 2])
        _resize(folder)
    else:
        raise AssertionError(how)


DAMAGE = [
    "truncated-faiss",
    "truncated-sentences",
    "truncated-sentences-same-manifest",
    "format-version",
    "vector-count",
    "sentence-count",
    "chunk-count",
    "missing-manifest",
    "truncated-articles",
]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_index_names_the_fix(built, fake, how):
    _damage(_live(built), how)
    with pytest.raises(index.IndexCorrupt) as e:
        load(built)
    msg = str(e.value)
    assert "qa build --full" in msg and "\n" not in msg and "Traceback" not in msg
    # An incremental build does not trust it: it rebuilds everything, then serves again.
    notes = []
    report = pipeline.build(built, embedder=fake, log=notes.append)
    assert len(report.added) == len(ARTICLES) and "unusable" in " ".join(notes)
    assert paths(load(built)) == set(ARTICLES)


@pytest.mark.parametrize("how", ["vector-count", "format-version"])
def test_damaged_index_cli_one_line(built, how):
    """`qa show` loads the index without the model: exit 1 and one line naming the fix."""
    _rewrite_manifest(_live(built), model=MODEL_ID)  # what the CLI expects
    _damage(_live(built), how)
    result = CliRunner().invoke(cli, ["show", "en/geneva.txt", "--index", str(built.index)])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error:") and "qa build --full" in lines[0]
    assert result.stdout == ""


# ---- versions: garbage collection and crash leftovers -------------------------------------


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
    its articles; the next build finishes and cleans up. test_crash.py does this on the real
    model and CLI, and at random moments."""
    before = load(built)
    (built.corpus / "en" / "zorvia.txt").write_text(NEW, encoding="utf-8")
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_index import FakeEmbedder
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


# ---- readers ---------------------------------------------------------------------------------


def test_pipeline_picks_up_new_version(built, fake):
    pipe = pipeline.Pipeline(built, embedder=fake)
    old = pipe.index
    (built.corpus / "en" / "zorvia.txt").write_text(NEW, encoding="utf-8")
    pipeline.build(built, embedder=fake)
    assert pipe.index is not old and "en/zorvia.txt" in paths(pipe.index)
    assert pipe.index is pipe.index  # loaded once per version, not per access
    assert "en/zorvia.txt" not in paths(old)  # a reader's open version is never changed


# ---- qa add ----------------------------------------------------------------------------------


@pytest.fixture
def incoming(tmp_path) -> Path:
    d = tmp_path / "incoming"
    d.mkdir()
    return d


def test_add_copies_by_language_and_builds(built, fake, incoming):
    (incoming / "zorvia.txt").write_text(NEW, encoding="utf-8")
    (incoming / "москва.txt").write_text(
        "Новость из Москвы\n\nВ Москве 5 марта открылась выставка кактусов. Её посетили "
        "тысячи людей.\n",
        encoding="utf-8",
    )
    report = intake.add(built, [incoming], embedder=fake)
    assert sorted(report.copied) == ["en/zorvia.txt", "ru/москва.txt"]
    assert (built.corpus / "en" / "zorvia.txt").read_text(encoding="utf-8") == NEW
    assert sorted(report.build.added) == sorted(report.copied)
    assert report.build.unchanged == len(ARTICLES) and report.duplicates == []
    idx = load(built)
    assert {"en/zorvia.txt", "ru/москва.txt"} <= paths(idx)
    assert len(fake.embedded) == n_texts(idx, "en/zorvia.txt") + n_texts(idx, "ru/москва.txt")
    summary = report.as_dict()
    assert summary["added"] == 2 and summary["duplicates"] == 0
    assert summary["files"]["copied"] == report.copied


def test_add_keeps_sidecar_metadata(built, fake, incoming):
    (incoming / "envoy.txt").write_text(NEW, encoding="utf-8")
    meta = {"title": "Zorvian envoy", "outlet": "Zorvia Daily", "language": "ru"}
    (incoming / "envoy.json").write_text(json.dumps(meta), encoding="utf-8")
    report = intake.add(built, [incoming / "envoy.txt"], embedder=fake)
    assert report.copied == ["ru/envoy.txt"]  # the sidecar's language wins over detection
    assert json.loads((built.corpus / "ru" / "envoy.json").read_text()) == meta
    art = next(a for a in load(built).articles.values() if a.path == "ru/envoy.txt")
    assert (art.outlet, art.lang) == ("Zorvia Daily", "ru")


def test_add_never_overwrites(built, fake, incoming):
    (incoming / "geneva.txt").write_text(NEW, encoding="utf-8")  # same name, other article
    (built.corpus / "en" / "geneva-2.json").write_text('{"outlet": "Not yours"}')
    report = intake.add(built, [incoming / "geneva.txt"], embedder=fake)
    # geneva.txt is taken; geneva-2 has someone's sidecar, which the new file would inherit.
    assert report.copied == ["en/geneva-3.txt"]
    assert (built.corpus / "en" / "geneva.txt").read_text(encoding="utf-8") == ARTICLES[
        "en/geneva.txt"
    ]
    assert not (built.corpus / "en" / "geneva-3.json").exists()


def test_add_reports_duplicates(built, fake, incoming):
    # Same cleaned text under another name, with different trailing whitespace / line ends.
    (incoming / "copy.txt").write_text(ARTICLES["ru/kyiv.txt"].replace("\n", "\r\n") + "\n\n")
    (incoming / "zorvia.txt").write_text(NEW, encoding="utf-8")
    (incoming / "zorvia-again.txt").write_text(NEW, encoding="utf-8")
    existing = built.corpus / "en" / "nato.txt"
    report = intake.add(built, [incoming, existing], embedder=fake)
    assert report.copied == ["en/zorvia-again.txt"]  # files of a folder go in name order
    same = {Path(d["path"]).name: d["same_as"] for d in report.duplicates}
    assert same == {
        "copy.txt": "ru/kyiv.txt",
        "zorvia.txt": "en/zorvia-again.txt",
        "nato.txt": "en/nato.txt",
    }
    assert report.build.added == report.copied and report.as_dict()["duplicates"] == 3
    assert len(load(built).articles) == len(ARTICLES) + 1
    # Adding it again later: still a duplicate, nothing embedded.
    fake.embedded.clear()
    again = intake.add(built, [incoming / "zorvia.txt"], embedder=fake)
    assert again.copied == [] and len(again.duplicates) == 1 and fake.embedded == []


def test_add_unreadable_file(built, fake, incoming):
    (incoming / "junk.txt").write_bytes(b"\x00\x01binary")
    (incoming / "notes.pdf").write_bytes(b"%PDF-1.4")
    report = intake.add(built, [incoming / "junk.txt", incoming / "notes.pdf"], embedder=fake)
    assert report.copied == [] and len(report.problems) == 2
    assert not list(built.corpus.rglob("junk*"))


def test_add_into_empty_corpus(tmp_path, fake, incoming):
    (incoming / "zorvia.md").write_text("---\noutlet: Zorvia Daily\n---\n" + NEW)
    s = Settings(corpus=tmp_path / "new-corpus", index=tmp_path / "new-index", quiet=True)
    report = intake.add(s, [incoming / "zorvia.md"], embedder=fake)
    assert report.copied == ["en/zorvia.md"] and report.build.added == ["en/zorvia.md"]
    assert load(s).articles[next(iter(load(s).articles))].outlet == "Zorvia Daily"


# ---- the CLI (fake model patched in) ---------------------------------------------------------


@pytest.fixture
def cli_fake(monkeypatch, fake) -> FakeEmbedder:
    monkeypatch.setattr(pipeline, "Embedder", lambda *a, **k: fake)
    monkeypatch.setattr(indexer, "Embedder", lambda *a, **k: fake)
    return fake


def test_cli_add_json(built, cli_fake, incoming):
    (incoming / "zorvia.txt").write_text(NEW, encoding="utf-8")
    (incoming / "dup.txt").write_text(ARTICLES["en/nato.txt"], encoding="utf-8")
    args = ["--corpus", built.corpus, "--index", built.index, "-q", "--json"]
    result = CliRunner().invoke(cli, ["add", str(incoming), *map(str, args)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["added"], summary["duplicates"], summary["unchanged"]) == (1, 1, len(ARTICLES))
    assert summary["files"]["copied"] == ["en/zorvia.txt"]
    assert summary["files"]["duplicates"][0]["same_as"] == "en/nato.txt"
    assert summary["chunks_embedded"] > 0 and summary["version"] == load(built).version


def test_cli_add_text_and_errors(built, cli_fake, incoming):
    (incoming / "zorvia.txt").write_text(NEW, encoding="utf-8")
    where = ["--corpus", str(built.corpus), "--index", str(built.index)]
    result = CliRunner().invoke(cli, ["add", str(incoming / "zorvia.txt"), *where])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 copied, 0 duplicates; 1 added")
    again = CliRunner().invoke(cli, ["add", str(incoming / "zorvia.txt"), *where])
    assert again.exit_code == 0 and "duplicate" in again.stderr
    (incoming / "junk.txt").write_bytes(b"\x00\x01")
    bad = CliRunner().invoke(cli, ["add", str(incoming / "junk.txt"), *where])
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1 and "nothing added" in bad.stderr
    missing = CliRunner().invoke(cli, ["add", str(incoming / "nope.txt"), *where])
    assert missing.exit_code == 2


def test_cli_build_refused_while_locked(built, cli_fake):
    where = ["--corpus", str(built.corpus), "--index", str(built.index), "-q"]
    with store_versions.build_lock(built.index):
        result = CliRunner().invoke(cli, ["build", *where])
    assert result.exit_code == 1 and "another `qa build`" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_large_indexes_switch_to_ivf_and_survive_save_load(settings, fake, monkeypatch):
    """Above ANN_MIN vectors both FAISS indexes are IVF (lowered here so a small corpus
    crosses it); with nprobe >= lists they find exactly what the flat scan finds, they are
    saved and loaded, and an incremental build still reads the old vectors back."""
    import faiss

    for i in range(12):  # enough sentences and windows to cross the lowered threshold
        body = " ".join(
            f"Report {i} line {j} mentions the accord number {i * 10 + j}." for j in range(6)
        )
        (settings.corpus / "en" / f"extra{i}.txt").write_text(f"Extra report {i}\n\n{body}\n")
    monkeypatch.setattr(index, "ANN_MIN", 40)
    pipeline.build(settings, embedder=fake)
    idx = index.load(settings.index)
    assert isinstance(idx.faiss, faiss.IndexIVFFlat) and isinstance(
        idx.sentence_faiss, faiss.IndexIVFFlat
    )
    assert (settings.index / idx.version / "sentences.faiss").exists()
    flat_chunks = index._flat(idx.faiss.reconstruct_n(0, idx.faiss.ntotal), DIM)
    flat_sents = index._flat(idx.sentence_vecs, DIM)
    for q in ("Geneva talks", "accord number 42", "Zelensky"):
        qv = fake.queries([q])[0]
        got = [r for r, _ in idx.dense_search(qv, 5)]
        assert got == [r for r, _ in index._search(flat_chunks, qv, 5)]
        got = [r for r, _ in index._search(idx.sentence_faiss, qv, 5)]
        assert got == [r for r, _ in index._search(flat_sents, qv, 5)]
    (settings.corpus / "en" / "zorvia.txt").write_text(NEW)
    fake.embedded.clear()
    report = pipeline.build(settings, embedder=fake)
    assert report.added == ["en/zorvia.txt"] and len(fake.embedded) < 20
