"""HTML page -> plain text lines and metadata, with the standard library's parser.

Scripts, styles, navigation, headers, footers, forms and asides never reach the text;
block elements end lines so the cleaner sees the page's structure.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser

_SKIP = {
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "svg",
    "iframe",
    "template",
    "figcaption",
    "select",
}
_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "article",
    "section",
    "blockquote",
    "tr",
    "table",
    "ul",
    "ol",
    "figure",
    "time",
    "main",
    "pre",
}
_META = {
    "og:title": "title",
    "og:site_name": "outlet",
    "article:published_time": "published",
    "og:url": "url",
    "datepublished": "published",
    "date": "published",
}


@dataclass
class Page:
    text: str = ""
    meta: dict = field(default_factory=dict)


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict = {}
        self.skip = 0
        self.in_title = False
        self.h1: list[str] = []
        self.in_h1 = False
        self.pre = 0

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "html" and a.get("lang"):
            self.meta.setdefault("language", a["lang"])
        elif tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key in _META and a.get("content"):
                self.meta.setdefault(_META[key], a["content"].strip())
        elif tag == "link" and a.get("rel", "").lower() == "canonical" and a.get("href"):
            self.meta.setdefault("url", a["href"])
        if tag in _SKIP:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "h1":
            self.in_h1 = True
        elif tag == "pre":
            self.pre += 1
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP and self.skip:
            self.skip -= 1
        elif tag == "title":
            self.in_title = False
        elif tag == "h1":
            self.in_h1 = False
        elif tag == "pre" and self.pre:
            self.pre -= 1
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.in_title:
            self.meta.setdefault("page_title", data.strip())
        if self.skip or self.in_title:
            return
        if not self.pre:
            data = " ".join(data.split("\n"))  # a source line break inside a paragraph is a space
        if self.in_h1:
            self.h1.append(data)
        self.parts.append(data)


def parse(source: str) -> Page:
    p = _Parser()
    p.feed(source)
    p.close()
    lines = [" ".join(line.split()) for line in "".join(p.parts).split("\n")]
    meta = {k: html.unescape(v) for k, v in p.meta.items() if k != "page_title"}
    h1 = " ".join("".join(p.h1).split())
    if "title" not in meta and (h1 or p.meta.get("page_title")):
        meta["title"] = h1 or p.meta["page_title"]
    return Page("\n".join(lines), meta)
