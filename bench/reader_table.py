"""The readers side by side on the held-out XQuAD articles (the README's table).

Runs `qa eval --split heldout` once per reader (typed, span, hybrid) over the same benchmark
index, or reads results saved earlier with `qa eval --json`, and prints markdown tables: per
cell and question language, and per question type (mixed corpus).

    .venv/bin/python bench/reader_table.py ../shared/bench/xquad/xquad-dev.en.json \\
        ../shared/bench/xquad/xquad-dev.ru.json --workdir /tmp/qa-eval8
    .venv/bin/python bench/reader_table.py --results typed.json span.json hybrid.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.config import load_settings, quiet_third_party
from qa.eval import run as evaluate

READERS = ("typed", "span", "hybrid")
CELLS = {"mixed": "EN+RU corpus", "en->ru": "RU paragraphs only", "ru->en": "EN paragraphs only"}


def tables(results: dict[str, dict]) -> str:
    lines = [
        "| questions | passages | reader | EM | F1 | evidence | abstained | F1 with abstention |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cell, where in CELLS.items():
        for lg in ("en", "ru"):
            for name, res in results.items():
                m = res["summary"].get(f"{cell}|{lg}|all")
                if not m:
                    continue
                lines.append(
                    f"| {lg.upper()} ({m['n']}) | {where} | {name} | {m['EM']:.3f} | "
                    f"{m['F1']:.3f} | {m['evidence']:.3f} | {m['abstain']:.3f} | "
                    f"{m['F1_with_abstain']:.3f} |"
                )
    lines += ["", "| gold paragraph withheld: declined | " + " | ".join(results) + " |"]
    lines.append("|---|" + "---|" * len(results))
    for lg in ("en", "ru"):
        vals = [f"{r['summary'][f'withheld|{lg}|all']['abstain']:.3f}" for r in results.values()]
        lines.append(f"| {lg.upper()} questions | " + " | ".join(vals) + " |")
    lines += ["", "| type | lang | n | " + " | ".join(f"{n} F1" for n in results) + " |"]
    lines.append("|---|---|---|" + "---|" * len(results))
    for qtype in ("date", "number", "person", "place", "other"):
        for lg in ("en", "ru"):
            ms = [r["summary"].get(f"mixed|{lg}|{qtype}") for r in results.values()]
            if not ms[0]:
                continue
            f1s = " | ".join(f"{m['F1']:.3f}" for m in ms)
            lines.append(f"| {qtype} | {lg.upper()} | {ms[0]['n']} | {f1s} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--results", nargs="+", type=Path, help="qa eval --json outputs")
    args = ap.parse_args()
    quiet_third_party()
    if args.results:
        results = {}
        for p in args.results:
            r = json.loads(p.read_text())
            results[r["settings"]["reader"]] = r
    else:
        s = load_settings().with_(quiet=True)
        results = {
            name: evaluate.run(
                args.files, s.with_(reader=name), args.workdir, log=lambda m: None, split="heldout"
            )
            for name in READERS
        }
    print(tables(results))


if __name__ == "__main__":
    main()
