"""The README's quality table: two `qa eval --json` results (before and after a change) side by
side, per cell: F1 with "no answer" as 0, F1 as if always answered, answered, precision of the
answers given, precision at 50% coverage; and questions whose gold paragraph was withheld.

    git worktree add /tmp/qa-old 971fdc4      # the reader before issue 14
    (cd /tmp/qa-old && ../main/.venv/bin/python -m qa eval X.en.json X.ru.json --split heldout \\
        --workdir /tmp/ev-old --json -q) > old.json
    .venv/bin/qa eval X.en.json X.ru.json --split heldout --workdir /tmp/ev --json -q > new.json
    .venv/bin/python bench/quality_compare.py old.json new.json --plot docs/precision.png

(Older results lack the answered/precision keys: they are recomputed from the rows.)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.eval import curves

CELLS = {
    "mixed|en|all": "EN, EN+RU corpus",
    "mixed|ru|all": "RU, EN+RU corpus",
    "en->ru|en|all": "EN, RU paragraphs only",
    "ru->en|ru|all": "RU, EN paragraphs only",
}


def cell_numbers(result: dict, key: str) -> dict:
    cell, lang, _ = key.split("|")
    rows = [r for r in result["rows"] if r["cell"] == cell and r["lang"] == lang]
    given = [r for r in rows if r["answered"]]
    m = result["summary"][key]
    return {
        "F1": m["F1_with_abstain"],
        "F1_always": m["F1"],
        "answered": len(given) / len(rows),
        "precision": sum(map(curves.right, given)) / len(given) if given else 1.0,
        "p50": curves.precision_at(rows, 0.5),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--plot", type=Path, help="precision/coverage of both runs in one PNG")
    args = ap.parse_args()
    old, new = (json.loads(p.read_text()) for p in (args.old, args.new))
    cols = ("F1", "F1_always", "answered", "precision", "p50")
    print(
        "| questions | F1 (no answer = 0) | F1 if always answering | answered | "
        "precision of answers | precision at 50% coverage |"
    )
    print("|---|---|---|---|---|---|")
    for key, name in CELLS.items():
        a, b = cell_numbers(old, key), cell_numbers(new, key)
        print(f"| {name} | " + " | ".join(f"{a[c]:.3f} -> **{b[c]:.3f}**" for c in cols) + " |")
    for lang in ("en", "ru"):
        key = f"withheld|{lang}|all"
        a, b = old["summary"][key]["abstain"], new["summary"][key]["abstain"]
        print(f"| {lang.upper()}, gold paragraph withheld: declined | {a:.3f} -> **{b:.3f}** |")
    if args.plot:
        title = "held-out XQuAD articles, EN + RU"
        print(curves.plot(new["rows"], args.plot, title=title, before=old["rows"]))


if __name__ == "__main__":
    main()
