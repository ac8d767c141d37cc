"""HTML pages (qa.ingest.html) as corpus.load reads them: title and metadata from the head,
the article's paragraphs only, no markup, scripts or site chrome."""

from __future__ import annotations

from pathlib import Path

from qa.ingest import corpus


def write(folder: Path, name: str, data: str | bytes) -> Path:
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


HTML = """<!DOCTYPE html>
<html lang="en"><head>
<title>Lavrov: US response cannot satisfy Russia | Some Site</title>
<meta property="og:title" content="Lavrov: US response cannot satisfy Russia &amp; NATO">
<meta property="og:site_name" content="TASS">
<meta property="article:published_time" content="2022-02-14T12:30:00+03:00">
<meta property="og:url" content="https://tass.com/politics/1">
<script>var SCRIPT_MARKER = "document.write('Login')";</script>
<style>.STYLE_MARKER { color: red }</style>
</head><body>
<nav><a href="/">NAV_MARKER Home</a> <a href="/world">World</a></nav>
<header>HEADER_MARKER Subscribe</header>
<article>
<h1>Lavrov: US response cannot satisfy Russia &amp; NATO</h1>
<figure><img src="x.jpg"><figcaption>CAPTION_MARKER Sergey Lavrov</figcaption></figure>
<p>MOSCOW, February 14. /TASS/. Washington&rsquo;s response to Russian security proposals cannot satisfy Moscow, Foreign Minister Sergey Lavrov said.</p>
<p>"The answer to these questions is negative," he stressed.<br>It cannot satisfy us.</p>
</article>
<aside>ASIDE_MARKER Related news</aside>
<footer>FOOTER_MARKER (c) 2022</footer>
<script>console.log("SCRIPT2_MARKER")</script>
</body></html>
"""


def test_html_page(tmp_path):
    write(tmp_path, "page.html", HTML)
    (art,), problems = corpus.load(tmp_path)
    assert problems == []
    assert art.title == "Lavrov: US response cannot satisfy Russia & NATO"
    assert art.outlet == "TASS"
    assert (art.published, art.date_uncertain) == ("2022-02-14", False)
    assert art.url == "https://tass.com/politics/1"
    assert art.lang == "en"
    assert art.text.startswith(art.title + "\n\n")
    assert art.text.count("cannot satisfy Russia & NATO") == 1
    assert "Washington’s response to Russian security proposals cannot satisfy Moscow" in art.text
    assert '"The answer to these questions is negative," he stressed.' in art.text
    assert "It cannot satisfy us." in art.text
    assert "MARKER" not in art.text, art.text
    assert "<" not in art.text and "&amp;" not in art.text


def test_html_source_line_breaks_do_not_split_paragraphs(tmp_path):
    """In HTML a newline inside <p> is just a space; splitting there would cut sentences in two
    (the chunker ends a sentence at every paragraph break)."""
    page = HTML.replace("security proposals cannot", "security proposals\n    cannot")
    write(tmp_path, "page.html", page)
    (art,), _ = corpus.load(tmp_path)
    assert "Washington’s response to Russian security proposals cannot satisfy Moscow" in art.text


def test_html_without_meta_uses_h1(tmp_path):
    write(
        tmp_path,
        "p.htm",
        "<html><body><h1>Grushko says Moscow is waiting for answers</h1>"
        "<p>Moscow is waiting for written answers, Grushko said.</p></body></html>",
    )
    (art,), _ = corpus.load(tmp_path)
    assert art.title == "Grushko says Moscow is waiting for answers"
    assert "Moscow is waiting for written answers, Grushko said." in art.text
