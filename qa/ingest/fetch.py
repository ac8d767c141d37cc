"""Fetch a web page for `qa add URL`: http(s) only, bounded in time, size and redirects, and
only HTML. Every failure is a FetchError with a one-line message.

This runs for the person at the command line, on URLs they chose. It must never be reachable
from the web app: a server that fetches any URL for anyone is a server-side request forgery
hole (it would reach 127.0.0.1 and the private network behind it).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message

from qa.errors import FetchError

TIMEOUT = 15.0  # seconds without a byte from the server
DEADLINE = 60.0  # seconds for the whole download: a slow drip cannot hold `qa add` forever
MAX_BYTES = 5_000_000  # the corpus reader's limit for one file
MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")
USER_AGENT = "qa/0.1 (news question answering; one page, on its user's request)"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Fetched:
    url: str  # where the page was found, after redirects
    requested: str  # what the user gave
    html: str  # decoded by the declared charset
    fetched_at: str  # ISO 8601, UTC


def is_url(value: str) -> bool:
    """Whether a `qa add` argument is meant as a URL rather than a file path."""
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value))


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        # urllib would also follow a redirect to ftp://; a page lives on http(s) only.
        if urllib.parse.urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise FetchError(f"{req.full_url}: redirected to {newurl}, which is not http(s)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _check(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"{url}: only http:// and https:// addresses can be added")
    if not parts.hostname:
        raise FetchError(f"{url}: no host name in the address")


def get(url: str) -> Fetched:
    """The HTML page at ``url``, or FetchError (HTTP error status, not HTML, too big, too
    slow, too many redirects, unreachable)."""
    _check(url)
    opener = urllib.request.build_opener(_Redirects())
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html"})
    try:
        with opener.open(req, timeout=TIMEOUT) as resp:
            final, headers = resp.geturl(), resp.headers
            _check_headers(url, headers)
            body = _read(url, resp)
    except FetchError:
        raise
    except urllib.error.HTTPError as e:
        if e.code in (301, 302, 303, 307, 308):
            raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects") from None
        raise FetchError(f"{url}: HTTP {e.code} {e.reason}; check the address") from None
    except TimeoutError:
        raise FetchError(f"{url}: no answer within {TIMEOUT:.0f} s") from None
    except urllib.error.URLError as e:
        raise FetchError(f"{url}: cannot connect ({_reason(e.reason)})") from None
    except (OSError, ValueError) as e:  # reset connections, malformed responses
        raise FetchError(f"{url}: download failed ({_reason(e)})") from None
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    return Fetched(final, url, _decode(body, headers.get_content_charset()), now)


def _check_headers(url: str, headers: Message) -> None:
    ctype = headers.get_content_type()  # "text/plain" when the header is missing
    if headers.get("Content-Type") is None or ctype not in HTML_TYPES:
        given = headers.get("Content-Type") or "none given"
        raise FetchError(f"{url}: not a web page (Content-Type: {given}); only HTML can be added")
    length = headers.get("Content-Length")
    if length and length.isdigit() and int(length) > MAX_BYTES:
        raise FetchError(f"{url}: page is {int(length):,} bytes, over the {MAX_BYTES:,} limit")


def _read(url: str, resp) -> bytes:
    """The body, refusing more than MAX_BYTES (whatever Content-Length said) or DEADLINE."""
    parts, size, start = [], 0, time.monotonic()
    while chunk := resp.read(_CHUNK):
        size += len(chunk)
        if size > MAX_BYTES:
            raise FetchError(f"{url}: page is over the {MAX_BYTES:,} byte limit")
        if time.monotonic() - start > DEADLINE:
            raise FetchError(f"{url}: download took over {DEADLINE:.0f} s")
        parts.append(chunk)
    return b"".join(parts)


def _decode(body: bytes, charset: str | None) -> str:
    """Text by the charset the server declared; else UTF-8; else the page's <meta charset>;
    else a guess from the bytes (trafilatura's detection, which wraps charset_normalizer)."""
    head = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", body[:4096], re.I)
    meta = head[1].decode("ascii") if head else None
    from trafilatura.utils import detect_encoding

    for name in filter(None, (charset, "utf-8", meta)):
        try:
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):  # an unknown name, or not that encoding
            continue
    guesses = detect_encoding(body)
    return body.decode(guesses[0] if guesses else "utf-8", errors="replace")


def _reason(e) -> str:
    text = str(getattr(e, "strerror", None) or e) or type(e).__name__
    return " ".join(text.split())[:120]
