"""Article -> sentences and chunks, every one with character offsets into Article.text.

Paragraph breaks always end a sentence. English is split with syntok, Russian with razdel
(which keeps "т.е." and "г." intact). Chunks are windows of a few sentences sliding by one, so
every sentence sits in the middle of some chunk and keeps its context on both sides.
"""

from __future__ import annotations

import re

from qa.types import Article, Chunk, Sentence

MAX_SENTENCE = 600  # characters; longer runs (lists, tables, unpunctuated text) are cut at spaces
_PARA = re.compile(r"[^\n]+")
# razdel splits after "янв." or "г." even when the sentence goes on ("в 2022 г. было...").
_RU_ABBR_END = re.compile(
    r"(\b(янв|фев|февр|мар|апр|авг|сен|сент|окт|нояб|дек|г|гг|см|т|им|ст)\.)$", re.I
)


def _spans_en(text: str) -> list[tuple[int, int]]:
    from syntok.segmenter import analyze

    spans = []
    for paragraph in analyze(text):
        for sentence in paragraph:
            tokens = [t for t in sentence if t.value]
            if tokens:
                spans.append((tokens[0].offset, tokens[-1].offset + len(tokens[-1].value)))
    return spans


def _spans_ru(text: str) -> list[tuple[int, int]]:
    from razdel import sentenize

    spans: list[tuple[int, int]] = []
    for s in sentenize(text):
        if spans and _RU_ABBR_END.search(text[spans[-1][0] : spans[-1][1]]):
            nxt = text[s.start : s.start + 1]
            if nxt.isdigit() or nxt.islower():
                spans[-1] = (spans[-1][0], s.stop)
                continue
        spans.append((s.start, s.stop))
    return spans


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    while end - start > MAX_SENTENCE:
        cut = text.rfind(" ", start, start + MAX_SENTENCE)
        cut = cut if cut > start else start + MAX_SENTENCE
        out.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        out.append((start, end))
    return out


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; spans never cross a line break and hold no outer spaces."""
    split = _spans_ru if lang == "ru" else _spans_en
    spans = []
    for para in _PARA.finditer(text):
        base = para.start()
        for s, e in split(para.group()):
            s, e = base + s, base + e
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                spans.extend(_cut_long(text, s, e))
    return spans


def sentences(article: Article) -> list[Sentence]:
    return [
        Sentence(f"{article.id}s{i}", article.id, article.text[s:e], s, e, article.lang)
        for i, (s, e) in enumerate(sentence_spans(article.text, article.lang))
    ]


def chunks(article: Article, sents: list[Sentence], size: int = 3, stride: int = 1) -> list[Chunk]:
    """Windows of ``size`` sentences starting every ``stride`` sentences (the last one included)."""
    if not sents:
        return []
    starts = list(range(0, max(1, len(sents) - size + 1), stride))
    if starts[-1] + size < len(sents):
        starts.append(len(sents) - size)
    out = []
    for n, i in enumerate(starts):
        j = min(i + size, len(sents))
        start, end = sents[i].start, sents[j - 1].end
        out.append(
            Chunk(
                f"{article.id}#{n}",
                article.id,
                article.text[start:end],
                start,
                end,
                article.lang,
                (i, j),
            )
        )
    return out
