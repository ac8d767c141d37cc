"""News-aware enrichment of an answer: who else reports it, and what its relative dates mean.

Wire copies are rarely verbatim: outlets trim and reword ("handed over" / "submitted"), and
the same story runs in English and Russian. A sentence corroborates the evidence when its e5
vector is nearly the same and it shares the evidence's words (same language) or its numbers
(across languages), so unrelated sentences on the same topic do not count.
"""

from __future__ import annotations

import re

from qa.ingest import dates
from qa.store import lexical
from qa.store.base import SearchIndex
from qa.types import Answer, Sentence

SAME_LANG_COS = 0.88  # rewordings of one wire sentence score 0.90-1.0, same-topic ones ~0.8
CROSS_LANG_COS = 0.86  # e5 translation pairs score 0.88-0.93
MIN_SHARED_WORDS = 0.3  # stem Jaccard for same-language rewordings
_DIGITS = re.compile(r"\d+")


def _jaccard(a: Sentence, b: Sentence) -> float:
    x, y = set(lexical.tokens(a.text, a.lang)), set(lexical.tokens(b.text, b.lang))
    return len(x & y) / len(x | y) if x and y else 0.0


def _agrees(a: Sentence, b: Sentence, cos: float, answer: str) -> bool:
    """Does ``b`` state what ``a`` states, answer included? Same language: the answer's words
    must be in ``b`` too (topically close sentences with another fact do not count). Across
    languages: the same numbers, and the answer's numbers or (transliterated) name in ``b``;
    a word answer like "Monday" cannot be checked across languages, so it is not claimed."""
    if a.lang == b.lang:
        need = set(lexical.tokens(answer, a.lang)) or set(lexical.words(answer))
        have = set(lexical.tokens(b.text, b.lang)) | set(lexical.words(b.text))
        return cos >= SAME_LANG_COS and need <= have and _jaccard(a, b) >= MIN_SHARED_WORDS
    digits_a, digits_b = set(_DIGITS.findall(a.text)), set(_DIGITS.findall(b.text))
    if digits_a != digits_b:
        return False
    answer_digits = set(_DIGITS.findall(answer))
    if not answer_digits:
        other = {lexical.translit(w)[:5] for w in lexical.words(b.text)}
        if not all(lexical.translit(w)[:5] in other for w in lexical.words(answer)):
            return False
    return cos >= (CROSS_LANG_COS if digits_a else CROSS_LANG_COS + 0.04)


def corroborating(
    index: SearchIndex, sentence: Sentence, answer: str, limit: int = 50
) -> list[tuple[Sentence, float]]:
    """Sentences of other articles that state the same answer, best first (one per article)."""
    vec = index.sentence_vector(index.sentence_row[sentence.id])
    seen, out = {sentence.article_id}, []
    for r, cos in index.similar_sentences(vec, limit):
        other = index.sentences[r]
        if other.article_id in seen or not _agrees(sentence, other, cos, answer):
            continue
        seen.add(other.article_id)
        out.append((other, round(float(cos), 4)))
    return out


def _value(text: str) -> tuple:
    """A language-neutral key for an answer: its numbers and months ("January 26" and
    "26 января" agree), else its words transliterated ("Blinken" and "Блинкен" agree)."""
    words = lexical.words(text)
    months = sorted(m for w in words if (m := dates.month_number(w)))
    digits = sorted(_DIGITS.findall(text))
    if digits or months:
        return ("n", tuple(digits), tuple(months))
    return ("w", tuple(sorted(lexical.translit(w)[:5] for w in words)))


def _when(index: SearchIndex, ans: Answer) -> tuple[str, str] | None:
    """The days an answer names, as an ISO range: "January 26" or "26 января" in the year of
    its article, "this week" or "on Monday" resolved against the article's date."""
    published = index.articles[ans.article_id].published
    if not published:
        return None
    for d in dates.relative_dates(ans.sentence.text, published, ans.sentence.lang):
        lo, hi = ans.sentence.start + d["start"], ans.sentence.start + d["end"]
        if lo < ans.end and ans.start < hi:
            return (d["date"], d["date"]) if "date" in d else (d["from"], d["to"])
    months = [m for w in lexical.words(ans.text) if (m := dates.month_number(w))]
    days = [int(x) for x in _DIGITS.findall(ans.text) if int(x) <= 31]
    if len(months) == 1 and len(days) == 1:
        day = dates.iso(int(published[:4]), months[0], days[0])
        return (day, day) if day else None
    return None


def _disagree(index: SearchIndex, a: Answer, b: Answer) -> bool:
    """Only values we can compare count: days ("this week", 24-30 January, agrees with
    "January 26"; "mid-December" cannot be placed, so it never conflicts) and numbers.
    Names and phrases are left alone: without a trained reader, a second-best name in
    another article is more often a misreading than a real disagreement."""
    if a.qtype == "date":
        when_a, when_b = _when(index, a), _when(index, b)
        return bool(when_a and when_b) and (when_a[1] < when_b[0] or when_b[1] < when_a[0])
    if a.qtype == "number":
        da, db = _DIGITS.findall(a.text), _DIGITS.findall(b.text)
        return bool(da and db) and _value(a.text) != _value(b.text)
    return False


def conflicts(index: SearchIndex, answer: Answer, support_ids: set[str]) -> list[dict]:
    """Confident answers from other articles that say something else, newest first (with
    the answer itself among them), or [] when the sources agree."""
    others = [
        alt
        for alt in answer.alternatives
        if alt.article_id not in support_ids and _disagree(index, answer, alt)
    ]
    if not others:
        return []
    rows = []
    for alt in (answer, *others):
        a = index.articles[alt.article_id]
        rows.append(
            {
                "text": alt.text,
                "start": alt.start,
                "end": alt.end,
                "sentence": alt.sentence.text,
                "article_id": a.id,
                "published": a.published,
                "confidence": alt.score,
            }
        )
    return sorted(rows, key=lambda r: r["published"] or "", reverse=True)


def enrich(index: SearchIndex, answer: Answer) -> dict:
    """Extra answer fields: corroborating passages, outlets reporting it, resolved dates."""
    if answer.text is None or answer.sentence is None:
        return {}
    s = answer.sentence
    article = index.articles[s.article_id]
    # Verbatim copies are already in also_in: list only what states it in other words.
    support = [
        (o, c)
        for o, c in corroborating(index, s, answer.text)
        if o.article_id not in answer.also_in
    ]
    outlets = []
    stating = [article, *(index.articles[a] for a in answer.also_in)]
    for a in stating + [index.articles[o.article_id] for o, _ in support]:
        if a.outlet and a.outlet not in outlets:
            outlets.append(a.outlet)
    found = dates.relative_dates(s.text, article.published, s.lang)
    resolved = None
    for d in found:  # the answer is (or contains, or sits in) a relative date expression
        lo, hi = s.start + d["start"], s.start + d["end"]
        if lo < answer.end and answer.start < hi:
            resolved = {**d, "start": lo, "end": hi, "display": f"{answer.text} ({d['label']})"}
            break
    differing = conflicts(index, answer, {o.article_id for o, _ in support})
    return {
        "conflicts": differing,
        "corroborated_by": [
            {
                "article_id": o.article_id,
                "sentence": o.text,
                "start": o.start,
                "end": o.end,
                "similarity": cos,
            }
            for o, cos in support
        ],
        "reported_by": outlets,
        "dates": [{**d, "start": s.start + d["start"], "end": s.start + d["end"]} for d in found],
        "resolved_date": resolved,
    }
