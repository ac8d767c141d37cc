"""The FAISS backend (qa.store.faiss_index): a damaged version is refused with one line that
names the fix, and large indexes switch to IVF and survive save and load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa import pipeline
from qa.cli import cli
from qa.config import Settings
from qa.embed.embedder import DIM, MODEL_ID
from qa.store import faiss_index as index
from tests.samples import ARTICLES, NEW
from tests.samples import indexed_paths as paths
from tests.samples import load_index as load


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
