"""`qa add`: copy article files into the corpus and update the index, in one locked step.

Files land in corpus/<lang>/ under a name no other article or sidecar uses; an article
whose cleaned text is already in the corpus is reported as a duplicate, not copied.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from qa import store
from qa.config import Settings
from qa.embed.embedder import Embedder
from qa.errors import CorpusError
from qa.indexer import BuildReport, update_locked
from qa.ingest import corpus


@dataclass
class AddReport:
    copied: list[str] = field(default_factory=list)  # corpus-relative paths of the new files
    duplicates: list[dict] = field(default_factory=list)  # {"path", "same_as"}: not copied
    problems: list[dict] = field(default_factory=list)  # unreadable inputs: not copied
    build: BuildReport = field(default_factory=BuildReport)

    def as_dict(self) -> dict:
        """The build summary, plus what happened to each given file."""
        out = self.build.as_dict()
        out["problems"] = self.problems + out["problems"]
        out["duplicates"] = len(self.duplicates)
        out["files"] = {**out["files"], "copied": self.copied, "duplicates": self.duplicates}
        return out


def add(settings: Settings, paths, embedder: Embedder | None = None, log=None) -> AddReport:
    """Copy article files (and their same-stem .json sidecars) into corpus/<lang>/, then update
    the index, all under the backend's build lock (the index directory's file lock, or the
    PostgreSQL advisory lock), so a concurrent build is refused. A file whose cleaned text is
    already in the corpus is reported as a duplicate and not copied; an existing file is never
    overwritten."""
    report = AddReport()
    backend = store.open_backend(settings)
    with backend.lock():
        settings.corpus.mkdir(parents=True, exist_ok=True)
        existing, _ = corpus.load(settings.corpus)
        seen = {_text_key(a.text): a.path for a in existing}
        for src in _inputs([Path(p) for p in paths], report):
            _add_one(settings.corpus, src, seen, report)
        report.build = update_locked(settings, False, embedder, log, backend)
    return report


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _inputs(paths: list[Path], report: AddReport) -> list[Path]:
    out = []
    for p in paths:
        if p.is_dir():
            out.extend(corpus.list_files(p))
        elif p.is_file() and p.suffix.lower() in corpus.SUFFIXES:
            out.append(p)
        else:
            why = "not an article file (.txt, .md, .html)" if p.exists() else "no such file"
            report.problems.append({"path": str(p), "error": f"{p}: {why}"})
    return out


def _add_one(root: Path, src: Path, seen: dict[str, str], report: AddReport) -> None:
    try:
        article, _ = corpus.read_article(src.parent, src)
    except CorpusError as e:
        report.problems.append({"path": str(src), "error": str(e)})
        return
    except OSError as e:
        report.problems.append({"path": str(src), "error": f"{src}: cannot read ({e.strerror})"})
        return
    key = _text_key(article.text)
    if key in seen:
        report.duplicates.append({"path": str(src), "same_as": seen[key]})
        return
    dest = _free_name(root / article.lang, src.stem.lstrip(".") or "article", src.suffix)
    sidecar = src.with_suffix(".json")
    if sidecar.is_file():  # first, so the article never appears without its metadata
        _copy_file(sidecar, dest.with_suffix(".json"))
    _copy_file(src, dest)
    seen[key] = dest.relative_to(root).as_posix()
    report.copied.append(seen[key])


def _free_name(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/stem+suffix``, or stem-2, stem-3, ...: a name no article *or sidecar* uses yet
    (an article would pick up a same-stem .json sidecar left by another)."""
    for n in itertools.count(1):
        name = stem if n == 1 else f"{stem}-{n}"
        if not any((folder / (name + s)).exists() for s in (*corpus.SUFFIXES, ".json")):
            return folder / (name + suffix)
    raise AssertionError("unreachable")


def _copy_file(src: Path, dest: Path) -> None:
    # Through a hidden temp file (the corpus reader skips dot files) and a rename, so a build
    # or a crash never leaves half an article in the corpus.
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
