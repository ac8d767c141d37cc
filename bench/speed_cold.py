"""bench/speed.py, cold start: `qa build` of the real corpus, `qa ask` in a fresh process, and
`qa serve` until GET /api/ask answers, each through the installed executable; their rows.

Imported by bench/speed.py; not a script.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from time import perf_counter

from common import ROOT, log

QA = ROOT / ".venv" / "bin" / "qa"
COLD_Q = "When did the US send its written response?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(tmp: Path, runs: int) -> dict:
    cdir, idir = tmp / "cold-corpus", tmp / "cold-index"
    shutil.copytree(ROOT / "corpus", cdir)
    out = {"build": cold_build(cdir, idir, tmp)}
    for key, fn in (
        ("ask", lambda: cold_ask(idir, tmp, runs, {})),
        ("ask_omp1", lambda: cold_ask(idir, tmp, 1, {"OMP_NUM_THREADS": "1"})),
        ("serve", lambda: serve_until_answer(idir, tmp)),
    ):
        try:
            out[key] = fn()
        except subprocess.CalledProcessError as e:  # keep going: report it in the table
            out[key] = {"error": f"exit {e.returncode}: {(e.stderr or '').strip()[-300:]}"}
    return out


def cold_build(cdir: Path, idir: Path, tmp: Path) -> dict:
    log("cold start: qa build of the real corpus")
    t = perf_counter()
    r = subprocess.run(
        [str(QA), "build", "--corpus", str(cdir), "--index", str(idir), "--json", "--quiet"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp,
    )
    rep = json.loads(r.stdout)
    return {
        "wall_s": round(perf_counter() - t, 1),
        "chunks": rep["chunks_embedded"],
        "sentences": rep["sentences_embedded"],
        "reported_s": rep["seconds"],
    }


def cold_ask(idir: Path, tmp: Path, runs: int, env: dict) -> dict:
    walls = []
    for i in range(runs):
        log(f"cold start: qa ask run {i + 1}/{runs} {env or ''}")
        t = perf_counter()
        r = subprocess.run(
            [str(QA), "ask", COLD_Q, "--index", str(idir), "--json"],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp,
            env={**os.environ, **env},
        )
        walls.append(perf_counter() - t)
    answer = (json.loads(r.stdout).get("answer") or {}).get("text")
    return {
        "runs_s": [round(w, 2) for w in walls],
        "median_s": round(statistics.median(walls), 2),
        "answer": answer,
    }


def serve_until_answer(idir: Path, tmp: Path, timeout: float = 300) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/ask?" + urllib.parse.urlencode({"q": COLD_Q})
    log(f"cold start: qa serve on 127.0.0.1:{port}")
    errlog = open(tmp / "serve.log", "w")
    t = perf_counter()
    proc = subprocess.Popen(
        [str(QA), "serve", "--index", str(idir), "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=errlog,
        cwd=tmp,
    )
    try:
        while perf_counter() - t < timeout and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=30) as resp:
                    resp.read()
                    first = perf_counter() - t
                    break
            except OSError:
                time.sleep(0.1)
        else:
            return {"error": f"no answer (exit {proc.poll()}), see {tmp / 'serve.log'}"}
        t2 = perf_counter()
        with urllib.request.urlopen(url, timeout=30) as resp:
            resp.read()
        return {
            "until_answer_s": round(first, 2),
            "next_request_ms": round((perf_counter() - t2) * 1000, 1),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        errlog.close()


def cold_rows(c: dict) -> list[tuple]:
    b, a, s = c["build"], c["ask"], c["serve"]
    if "error" in a:
        a = {"median_s": "failed", "runs_s": [], "answer": a["error"]}
    rows = [
        (
            "Cold start",
            f"`qa build` of the real corpus ({b['chunks']} chunks + {b['sentences']} sentences)",
            f"{b['wall_s']} s wall",
            f"{(b['chunks'] + b['sentences']) / b['wall_s']:.1f} texts/s incl. imports and model "
            f"load; build itself reports {b['reported_s']} s",
        ),
        (
            "Cold start",
            f'`qa ask "{COLD_Q}" --index ...` (fresh process)',
            f"**{a['median_s']} s** median",
            f"runs {a['runs_s']}; answer {a['answer']!r}",
        ),
    ]
    if "ask_omp1" in c and "error" not in c["ask_omp1"]:
        o = c["ask_omp1"]
        rows.append(
            (
                "Cold start",
                "the same with OMP_NUM_THREADS=1",
                f"**{o['median_s']} s** median",
                f"runs {o['runs_s']}; answer {o['answer']!r}",
            )
        )
    serve = "`qa serve` until GET /api/ask answers"
    if "error" in s:
        rows.append(("Cold start", serve, "failed", s["error"]))
    else:
        result = f"**{s['until_answer_s']} s**"
        rows.append(("Cold start", serve, result, f"next request {s['next_request_ms']} ms"))
    return rows
