"""bench/speed.py, memory and disk: the RSS of a fresh serving process (model and NER, then a
saved index loaded as `qa serve` loads it), the size of a saved index, and their table rows.

Imported by bench/speed_query.py and bench/speed_report.py; not a script.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from common import ROOT

LOAD_SNIPPET = r"""
import json, sys, time
from pathlib import Path
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
out = {"start_mb": rss()}
from qa.config import Settings, quiet_third_party
quiet_third_party()
from qa.store import faiss_index as index
from qa.read import spans
from qa.embed.embedder import Embedder
Embedder(Settings().model_cache).queries(["warm up"])
spans.warm_up()
out["model_mb"] = rss()
if len(sys.argv) > 1:
    t = time.perf_counter()
    idx = index.load(Path(sys.argv[1]))
    out["load_s"] = time.perf_counter() - t
    idx.copies("")  # the wire-copy table the first answer builds
    out["index_mb"] = rss()
print(json.dumps(out))
"""


def loaded_rss(folder: Path | None) -> dict:
    """RSS of a fresh process with the model and NER loaded, then the index (as in `qa serve`)."""
    args = [sys.executable, "-c", LOAD_SNIPPET] + ([str(folder)] if folder else [])
    r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def disk_usage(folder: Path) -> dict:
    sizes: dict[str, int] = {}
    for p in folder.rglob("*"):
        if p.is_file():
            top = p.relative_to(folder).parts[0]
            sizes[top] = sizes.get(top, 0) + p.stat().st_size
    return {"total_mb": round(sum(sizes.values()) / 2**20, 1)} | {
        k: round(v / 2**20, 1) for k, v in sorted(sizes.items())
    }


def memory_rows(result: dict) -> list[tuple]:
    base = result.get("serving_model_only")
    rows = []
    if base:
        rows.append(
            (
                "Memory",
                "serving process, model + NER, no index",
                f"{base['model_mb']:.0f} MB RSS",
                "",
            )
        )
    for r in result["sizes"].values():
        rows.append(_memory_row(r))
        if "disk" in r:
            d = r["disk"]
            parts = ", ".join(f"{k} {v}" for k, v in d.items() if k != "total_mb")
            rows.append(
                (
                    "Disk",
                    f"`Index.save` of {r['chunks']:,} chunks",
                    f"**{d['total_mb']} MB**",
                    parts + " (MB)",
                )
            )
    return rows


def _memory_row(r: dict) -> tuple:
    per = r["rss_delta_mb"] / r["chunks"] * 1e5
    note = (
        f"RSS growth of this process building it: {r['rss_delta_mb']:.0f} MB ({per:.0f} MB "
        "/ 100k; rough: memory freed by the smaller sizes is reused)"
    )
    if "serving" not in r:
        return (
            "Memory",
            f"index of {r['chunks']:,} chunks, in memory (not saved: see --save-max)",
            f"+{r['rss_delta_mb']:.0f} MB RSS (~{per:.0f} MB per 100k chunks)",
            note,
        )
    s = r["serving"]
    delta = s["index_mb"] - s["model_mb"]
    return (
        "Memory",
        f"index of {r['chunks']:,} chunks loaded by `index.load` in a fresh process",
        f"+{delta:.0f} MB RSS (**{delta / r['chunks'] * 1e5:.0f} MB per 100k chunks**); "
        f"total {s['index_mb']:.0f} MB",
        f"index.load {s['load_s']:.1f} s; {note}",
    )
