"""`qa add` (qa.intake): files copied into the corpus by language, never overwriting,
duplicates reported, then an incremental build (fake embedder)."""

from __future__ import annotations

import json
from pathlib import Path

from qa import intake
from qa.config import Settings
from tests.samples import ARTICLES, NEW, n_texts
from tests.samples import indexed_paths as paths
from tests.samples import load_index as load


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
