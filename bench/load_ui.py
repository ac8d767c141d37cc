"""Load test of `qa serve` on 127.0.0.1: N questions at concurrency C through the JSON route
(GET /api/ask) and through the Gradio chat (gradio_client, api_name="/chat").

    .venv/bin/python bench/load_ui.py                     # starts `qa serve` on ./index
    .venv/bin/python bench/load_ui.py --url http://127.0.0.1:7860 -n 200 -c 8

Every answer is compared with the one the same server gave for that question when asked
alone, so a dropped, failed or mixed-up answer counts; errors and lost must both be 0.
Prints p50/p95 latency and throughput per path (the README's numbers come from here).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "fixtures" / "seed_questions.json"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "GRADIO_ANALYTICS_ENABLED": "0"}


def questions() -> list[str]:
    return [q["question"] for q in json.loads(SEED.read_text())["questions"]]


def check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"load tests target 127.0.0.1 only, not {host}")


def ask_json(url: str, question: str, timeout: float = 60) -> str:
    """The raw body of GET /api/ask (raises on a non-200 status)."""
    query = urllib.parse.urlencode({"q": question})
    with urllib.request.urlopen(f"{url}/api/ask?{query}", timeout=timeout) as r:
        return r.read().decode("utf-8")


def chat_asker(url: str):
    """A function question -> chat markdown, with one gradio_client per thread."""
    os.environ.update(OFFLINE)  # gradio_client checks versions and phones home otherwise
    from gradio_client import Client

    local = threading.local()

    def ask(question: str) -> str:
        if not hasattr(local, "client"):
            local.client = Client(url, verbose=False)
        return local.client.predict(question, "both", api_name="/chat")

    return ask


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] if xs else float("nan")


def run(ask, qs: list[str], n: int = 200, concurrency: int = 8) -> dict:
    """Ask n questions (cycling qs) with `concurrency` threads; compare with a serial baseline."""
    baseline = {q: ask(q) for q in dict.fromkeys(qs)}  # also warms every code path
    todo = [qs[i % len(qs)] for i in range(n)]

    def one(q: str):
        t = time.perf_counter()
        try:
            got = ask(q)
        except Exception as e:  # every failure is counted; none stops the run
            return q, None, time.perf_counter() - t, f"{type(e).__name__}: {e}"
        return q, got, time.perf_counter() - t, None

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, todo))
    wall = time.perf_counter() - t0
    errors = [err for _, _, _, err in results if err]
    lost = [q for q, got, _, err in results if not err and got != baseline[q]]
    lat = [dt for _, _, dt, err in results if not err]
    return {
        "n": n,
        "concurrency": concurrency,
        "returned": len(results),
        "errors": len(errors),
        "error_samples": errors[:3],
        "lost": len(lost),
        "p50_ms": round(1000 * _pct(lat, 50), 1),
        "p95_ms": round(1000 * _pct(lat, 95), 1),
        "throughput_rps": round(n / wall, 1),
        "seconds": round(wall, 2),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: list[str], port: int, log: Path, timeout: float = 180, env=None):
    """Start `qa serve` on 127.0.0.1:port; returns the process once the app answers."""
    qa = Path(sys.executable).parent / "qa"
    cmd = [str(qa), "serve", "--host", "127.0.0.1", "--port", str(port), "-q", *args]
    out = open(log, "wb")  # closed by stop_server
    proc = subprocess.Popen(
        cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **OFFLINE, **(env or {})}
    )
    proc.log_file = out
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"qa serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.25)
    stop_server(proc)
    raise RuntimeError(f"qa serve did not answer within {timeout}s:\n{log.read_text()}")


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.log_file.close()


def table(rows: dict) -> str:
    lines = ["path       n  conc  errors  lost   p50 ms   p95 ms   req/s"]
    for name, r in rows.items():
        lines.append(
            f"{name:6} {r['n']:5} {r['concurrency']:5} {r['errors']:7} {r['lost']:5} "
            f"{r['p50_ms']:8} {r['p95_ms']:8} {r['throughput_rps']:7}"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="a running `qa serve` (default: start one on ./index)")
    ap.add_argument("-n", type=int, default=200, help="questions per path")
    ap.add_argument("-c", "--concurrency", type=int, default=8)
    ap.add_argument("--index", default=None, help="index for the server this script starts")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    opts = ap.parse_args()
    proc = None
    if opts.url:
        url = opts.url.rstrip("/")
    else:
        port = free_port()
        out = ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        extra = ["--index", opts.index] if opts.index else []
        proc = start_server(extra, port, out / "load_ui_server.log")
        url = f"http://127.0.0.1:{port}"
    check_loopback(url)
    qs = questions()
    try:
        rows = {
            "json": run(lambda q: ask_json(url, q), qs, opts.n, opts.concurrency),
            "chat": run(chat_asker(url), qs, opts.n, opts.concurrency),
        }
    finally:
        if proc is not None:
            stop_server(proc)
    if opts.json:
        print(json.dumps(rows))
    else:
        print(table(rows))
    if any(r["errors"] or r["lost"] for r in rows.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
