"""Article extraction benchmark: how much of a real web page's body an HTML reader keeps, how
much of its boilerplate (menus, related links, footers, cookie notices) it keeps out, and how
long it takes, on the annotated pages of ../shared/bench/extraction/ (trafilatura's evaluation
set; scored exactly as its README says).

    .venv/bin/python bench/extraction.py                   # the table (markdown, stdout)
    .venv/bin/python bench/extraction.py --misses intake   # which snippets a reader gets wrong

Readers compared:
  before   qa before issue #17: the stdlib reader (bench/legacy_html.py) + qa.ingest.clean
  traf     trafilatura 2.3.1 extract() with its defaults (readers' comments included)
  intake   qa's HTML intake now: qa.ingest.corpus.read_article -> Article.text
           (trafilatura without comments, then our dateline/outlet/date rules)

The pages belong to their publishers: they are read from ../shared, never copied here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import legacy_html  # the reader this issue replaced, kept only as this benchmark's baseline

from qa.ingest import clean, corpus

DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "extraction"


def read_before(path: Path) -> str:
    page = legacy_html.parse(path.read_text(encoding="utf-8", errors="replace"))
    got = clean.extract(page.text, page.meta.get("title"))
    return "\n\n".join(got.body if got.title_in_body else [got.title, *got.body])


def read_traf(path: Path) -> str:
    import trafilatura

    return trafilatura.extract(path.read_bytes()) or ""


def read_intake(path: Path) -> str:
    try:
        article, _ = corpus.read_article(path.parent, path)
    except corpus.CorpusError:  # no article text found
        return ""
    return article.text


READERS = {
    "before": ("qa before #17 (stdlib reader + line rules)", read_before),
    "traf": ("trafilatura 2.3.1 extract(), defaults", read_traf),
    "intake": ("qa intake now (trafilatura + our rules)", read_intake),
}


def _norm(s: str) -> str:
    return " ".join(s.split())


def score(reader, pages: dict, folder: Path) -> dict:
    """Share of `with` snippets found, share of `without` snippets absent, ms per page."""
    kept = found_bad = n_with = n_without = 0
    times, misses = [], []
    for ann in pages.values():
        path = folder / "pages" / ann["file"]
        t0 = time.perf_counter()
        text = _norm(reader(path))
        times.append((time.perf_counter() - t0) * 1000)
        for s in ann["with"]:
            n_with += 1
            if _norm(s) in text:
                kept += 1
            else:
                misses.append(("lost body", ann["file"], s))
        for s in ann["without"]:
            n_without += 1
            if _norm(s) in text:
                found_bad += 1
                misses.append(("kept boilerplate", ann["file"], s))
    return {
        "pages": len(pages),
        "body_kept": kept / n_with,
        "boilerplate_out": 1 - found_bad / n_without,
        "ms_per_page": statistics.mean(times),
        "ms_median": statistics.median(times),
        "misses": misses,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="annotations.json + pages/")
    ap.add_argument(
        "--readers", default=",".join(READERS), help="comma-separated, of " + ",".join(READERS)
    )
    ap.add_argument("--misses", default=None, help="list this reader's wrong snippets")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    pages = json.loads((args.data / "annotations.json").read_text(encoding="utf-8"))
    first = next(iter(pages.values()))["file"]
    results = {}
    for key in args.readers.split(","):
        name, fn = READERS[key]
        fn(args.data / "pages" / first)  # warm up: imports and lazily loaded models
        results[key] = score(fn, pages, args.data)
    n_with = sum(len(a["with"]) for a in pages.values())
    n_without = sum(len(a["without"]) for a in pages.values())
    print(
        f"{len(pages)} pages, {n_with} body snippets, {n_without} boilerplate snippets; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores\n"
    )
    print("| reader | body kept | boilerplate kept out | ms/page (mean / median) |")
    print("|---|---|---|---|")
    for key, r in results.items():
        print(
            f"| {READERS[key][0]} | {r['body_kept']:.3f} | {r['boilerplate_out']:.3f} | "
            f"{r['ms_per_page']:.0f} / {r['ms_median']:.0f} |"
        )
    if args.misses:
        for kind, file, s in results[args.misses]["misses"]:
            print(f"{kind:17} {file:45} {s[:80]!r}", file=sys.stderr)
    if args.json:
        out = {k: {x: y for x, y in r.items() if x != "misses"} for k, r in results.items()}
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
