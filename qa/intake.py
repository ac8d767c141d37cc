"""`qa add`: copy article files, or fetch web pages, into the corpus and update the index, in
one locked step.

Files land in corpus/<lang>/ under a name no other article or sidecar uses; an article
whose cleaned text is already in the corpus is reported as a duplicate, not copied. A web
page is stored as its HTML (UTF-8) with a JSON sidecar {url, fetched_at}: the corpus keeps
what was read, so a better reader can read it again, and the article links to its URL.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from qa import store
from qa.atomic import write_atomic
from qa.config import Settings
from qa.embed.embedder import Embedder
from qa.errors import CorpusError, FetchError
from qa.indexer import BuildReport, update_locked
from qa.ingest import corpus, fetch


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


def add(settings: Settings, items, embedder: Embedder | None = None, log=None) -> AddReport:
    """Copy article files (and their same-stem .json sidecars) and fetch http(s) URLs into
    corpus/<lang>/, then update the index, all under the backend's build lock (the index
    directory's file lock, or the PostgreSQL advisory lock), so a concurrent build is refused.
    Pages are fetched before the lock is taken: a slow site must not hold up other builds.
    A file whose cleaned text is already in the corpus is reported as a duplicate and not
    copied; an existing file is never overwritten; a file or page that cannot be read is a
    problem in the report, and nothing of it is written."""
    report = AddReport()
    urls = [str(i) for i in items if fetch.is_url(str(i))]
    pages = _fetch(urls, report)
    paths = [Path(i) for i in items if not fetch.is_url(str(i))]
    backend = store.open_backend(settings)
    with backend.lock():
        settings.corpus.mkdir(parents=True, exist_ok=True)
        existing, _ = corpus.load(settings.corpus)
        seen = {_text_key(a.text): a.path for a in existing}
        for src in _inputs(paths, report):
            _add_one(settings.corpus, src, seen, report)
        for page in pages:
            _add_page(settings.corpus, page, seen, report)
        if report.copied or report.duplicates or not report.problems:
            report.build = update_locked(settings, False, embedder, log, backend)
    return report


def _fetch(urls: list[str], report: AddReport) -> list[fetch.Fetched]:
    pages = []
    for url in urls:
        try:
            pages.append(fetch.get(url))
        except FetchError as e:
            report.problems.append({"path": url, "error": str(e)})
    return pages


def _add_page(root: Path, page: fetch.Fetched, seen: dict[str, str], report: AddReport) -> None:
    """Store a fetched page and its sidecar in corpus/<lang>/, unless it has no article text
    or is already in the corpus."""
    side = {"url": page.url, "fetched_at": page.fetched_at}
    if page.requested != page.url:
        side["requested_url"] = page.requested
    data = page.html.encode("utf-8")
    try:
        if len(data) > corpus.MAX_BYTES:
            raise CorpusError(f"{page.requested}: page is over {corpus.MAX_BYTES:,} bytes as UTF-8")
        article, _ = corpus.parse_article("page.html", data, {"url": page.url}, b"", page.requested)
    except CorpusError as e:
        report.problems.append({"path": page.requested, "error": str(e)})
        return
    key = _text_key(article.text)
    if key in seen:
        report.duplicates.append({"path": page.requested, "same_as": seen[key]})
        return
    dest = _free_name(root / article.lang, _url_stem(page.url), ".html")
    side_bytes = (json.dumps(side, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    write_atomic(dest.with_suffix(".json"), side_bytes)  # first: never a page without its URL
    try:
        write_atomic(dest, data)
    except BaseException:
        dest.with_suffix(".json").unlink(missing_ok=True)
        raise
    seen[key] = dest.relative_to(root).as_posix()
    report.copied.append(seen[key])


def _url_stem(url: str) -> str:
    """A file name from the URL's last path segment ("lavrov-talks" from
    https://example.com/world/lavrov-talks.html), else its host name."""
    parts = urllib.parse.urlsplit(url)
    segments = [s for s in urllib.parse.unquote(parts.path).split("/") if s]
    name = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", segments[-1]) if segments else ""
    name = re.sub(r"[^\w-]+", "-", name).strip("-.")[:80]
    return name or re.sub(r"[^\w-]+", "-", parts.hostname or "page").strip("-") or "page"


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
    write_atomic(dest, src.read_bytes())
