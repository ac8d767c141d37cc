"""`qa add URL` against a web server on 127.0.0.1: a page is fetched, stored with its sidecar
and indexed (fake embedder); every failure is one line, exit code 1, and nothing written."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa import indexer, intake, pipeline
from qa.cli import cli
from qa.config import Settings
from qa.embed.embedder import DIM
from qa.ingest import corpus, fetch
from qa.store import faiss_index

PAGES = Path(__file__).parent / "html_pages"
RIA = (PAGES / "ria_like.html").read_bytes()
TASS = (PAGES / "tass_like.html").read_text(encoding="utf-8")
MENU = b"<html><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav></body></html>"
ARTICLES = {
    "en/geneva.txt": "Lavrov met Blinken in Geneva\n\nLavrov and Blinken held talks in Geneva "
    "on January 21. They spoke for two hours. Both sides called the talks useful.\n",
    "ru/kyiv.txt": "Блинкен прибыл в Киев\n\nЭнтони Блинкен прибыл в Киев 19 января. Он "
    "встретился с президентом Зеленским. Визит продлился один день.\n",
}


class FakeEmbedder:
    """The Embedder interface with deterministic unit vectors (as in tests/test_index.py)."""

    model_id = "fake/hash-embedder"

    def __init__(self):
        self.embedded: list[str] = []

    @staticmethod
    def _vec(text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
        return v / np.linalg.norm(v)

    def queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, DIM))

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.embedded.extend(texts)
        return self.queries(texts)


class Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.0: a body without Content-Length ends when the connection closes."""

    def log_message(self, *args):
        pass

    def _send(self, code: int, body: bytes, ctype: str | None, length: int | None = None):
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        try:
            for i in range(0, len(body), 1 << 16):
                self.wfile.write(body[i : i + 1 << 16])
        except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
            pass

    def _redirect(self, where: str):
        self.send_response(302)
        self.send_header("Location", where)
        self.end_headers()

    def do_GET(self):
        p, html = self.path, "text/html; charset=utf-8"
        big = b"<html><body><p>" + b"x" * (fetch.MAX_BYTES + 1) + b"</p></body></html>"
        if p == "/20220126/lavrov-1769512345.html":
            self._send(200, RIA, html, len(RIA))
        elif p == "/tass.html":
            self._send(200, TASS.encode("cp1251"), "text/html; charset=windows-1251")
        elif p == "/xhtml":
            self._send(200, RIA, "application/xhtml+xml")
        elif p == "/data.json":
            self._send(200, b'{"a": 1}', "application/json")
        elif p == "/no-type":
            self._send(200, RIA, None)
        elif p == "/big-declared.html":
            self._send(200, big[:1000], html, len(big))
        elif p == "/big-streamed.html":
            self._send(200, big, html)
        elif p == "/menu.html":
            self._send(200, MENU, html)
        elif p == "/moved":
            self._redirect("/20220126/lavrov-1769512345.html")
        elif p.startswith("/hops/"):  # /hops/3: three redirects, then the page
            n = int(p.rsplit("/", 1)[1])
            self._redirect(f"/hops/{n - 1}" if n > 1 else "/20220126/lavrov-1769512345.html")
        elif p == "/to-ftp":
            self._redirect("ftp://127.0.0.1/file.html")
        elif p == "/slow":
            time.sleep(1.5)
            self._send(200, RIA, html)
        else:
            self._send(404, b"<html><body>Not here</body></html>", html)


@pytest.fixture
def server(monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def fake(monkeypatch) -> FakeEmbedder:
    fake = FakeEmbedder()
    monkeypatch.setattr(pipeline, "Embedder", lambda *a, **k: fake)
    monkeypatch.setattr(indexer, "Embedder", lambda *a, **k: fake)
    return fake


@pytest.fixture
def built(tmp_path, fake) -> Settings:
    for rel, text in ARTICLES.items():
        (tmp_path / "corpus" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "corpus" / rel).write_text(text, encoding="utf-8")
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index", quiet=True)
    pipeline.build(settings, embedder=fake)
    fake.embedded.clear()
    return settings


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def run(settings: Settings, *args: str):
    where = ["--corpus", str(settings.corpus), "--index", str(settings.index), "-q"]
    return CliRunner().invoke(cli, ["add", *args, *where])


def test_add_url_stores_page_and_sidecar_and_indexes(built, fake, server):
    url = f"{server}/20220126/lavrov-1769512345.html"
    report = intake.add(built, [url], embedder=fake)
    assert report.problems == [] and report.copied == ["ru/lavrov-1769512345.html"]
    assert report.build.added == report.copied and fake.embedded
    stored = built.corpus / "ru" / "lavrov-1769512345.html"
    assert stored.read_bytes() == RIA
    side = json.loads(stored.with_suffix(".json").read_text(encoding="utf-8"))
    assert side["url"] == url and set(side) == {"url", "fetched_at"}
    fetched = dt.datetime.fromisoformat(side["fetched_at"])
    assert abs((dt.datetime.now(dt.UTC) - fetched).total_seconds()) < 600
    art = next(
        a for a in faiss_index.load(built.index).articles.values() if a.path == report.copied[0]
    )
    # The article's link is the URL it was fetched from, not the page's canonical link.
    assert (art.url, art.outlet, art.published, art.lang) == (
        url,
        "RIA Novosti",
        "2022-01-26",
        "ru",
    )
    assert art.title == "Лавров: ответ США на предложения по безопасности Москву не устроит"
    assert "Лента новостей" not in art.text and "Иван_77" not in art.text
    # Offsets index the cleaned text the index keeps (what `qa show` prints), and reading the
    # stored page again gives that same text.
    entry = faiss_index.load(built.index).entry_of(art.id)
    for x in [*entry.chunks, *entry.sentences]:
        assert art.text[x.start : x.end] == x.text
    again, _ = corpus.read_article(built.corpus, stored)
    assert again.text == art.text and again.content_hash == art.content_hash


def test_cli_add_url_json(built, fake, server):
    result = run(built, f"{server}/20220126/lavrov-1769512345.html", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["added"] == 1 and summary["files"]["copied"] == ["ru/lavrov-1769512345.html"]
    again = run(built, f"{server}/20220126/lavrov-1769512345.html", "--json")  # the same page
    assert again.exit_code == 0 and json.loads(again.stdout)["duplicates"] == 1
    assert len(list((built.corpus / "ru").glob("lavrov*"))) == 2  # .html + .json, once


def test_redirect_keeps_final_url(built, fake, server):
    report = intake.add(built, [f"{server}/moved"], embedder=fake)
    side = json.loads((built.corpus / report.copied[0]).with_suffix(".json").read_text())
    assert side["url"] == f"{server}/20220126/lavrov-1769512345.html"
    assert side["requested_url"] == f"{server}/moved"


def test_five_redirects_are_followed(built, fake, server):
    report = intake.add(built, [f"{server}/hops/5"], embedder=fake)
    assert report.problems == [] and report.copied == ["ru/lavrov-1769512345.html"]


def test_declared_charset_and_xhtml(built, fake, server):
    report = intake.add(built, [f"{server}/tass.html", f"{server}/xhtml"], embedder=fake)
    assert report.problems == [] and len(report.copied) == 2
    tass = (built.corpus / report.copied[0]).read_text(encoding="utf-8")  # stored as UTF-8
    assert "Россия продолжит добиваться от западных коллег" in tass


FAILURES = [
    ("/missing", "HTTP 404"),
    ("/data.json", "not a web page (Content-Type: application/json)"),
    ("/no-type", "not a web page (Content-Type: none given)"),
    ("/big-declared.html", "over the 5,000,000"),
    ("/big-streamed.html", "over the 5,000,000"),
    ("/menu.html", "no article text found"),
    ("/hops/6", "more than 5 redirects"),
    ("/to-ftp", "not http(s)"),
    ("/slow", "no answer within"),
]


@pytest.mark.parametrize("path,message", FAILURES)
def test_failure_is_one_line_and_adds_nothing(built, fake, server, monkeypatch, path, message):
    monkeypatch.setattr(fetch, "TIMEOUT", 0.5)  # only /slow waits that long
    before, version = files(built.corpus), faiss_index.load(built.index).version
    result = run(built, server + path)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("qa: error: nothing added: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert files(built.corpus) == before and fake.embedded == []
    assert faiss_index.load(built.index).version == version


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/a.html", "file:///etc/hostname", "http:///x"])
def test_other_schemes_refused(built, fake, url):
    result = run(built, url)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "http" in result.stderr and files(built.corpus).keys() == {*ARTICLES}


def test_unreachable_server(built, fake):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run(built, f"http://127.0.0.1:{port}/a.html")
    assert result.exit_code == 1 and "cannot connect" in result.stderr
    assert result.stderr.count("\n") == 1


def test_good_and_bad_urls_together(built, fake, server):
    result = run(built, f"{server}/missing", f"{server}/20220126/lavrov-1769512345.html", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["added"] == 1 and summary["problems"][0]["path"] == f"{server}/missing"
    assert "skipped" not in result.stderr  # -q


def test_help_shows_a_url_example():
    result = CliRunner().invoke(cli, ["add", "--help"])
    assert result.exit_code == 0 and "qa add https://" in result.output


@pytest.mark.parametrize(
    "url,stem",
    [
        ("https://ria.ru/20220126/lavrov-1769512345.html", "lavrov-1769512345"),
        ("https://tass.com/politics/1401777", "1401777"),
        ("https://example.com/", "example-com"),
        ("https://example.com/новости/лавров?x=1", "лавров"),
        ("https://example.com/a/..%2F..%2Fetc", "etc"),
    ],
)
def test_file_names_from_urls(url, stem):
    assert intake._url_stem(url) == stem
