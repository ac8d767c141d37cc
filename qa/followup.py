"""Follow-up questions without a language model: does a question lean on the conversation
("And the OSCE consultations?", "А с кем?", "What did they discuss?"), and if so, which
question that stands alone does it ask? That question goes to retrieval and to the reader,
and is shown to the user ("Understood as: ...").

Pure string work on the new question and the previous turn (its question as understood and
its answer). The decision is conservative: a question with its own subject is taken as is, so
a topic switch, or an unanswerable question in the middle, does not drag the old topic along.
The rewrites, tried in order:
  pronoun   "When did he hold talks?" -> the previous person answer, or the names the previous
            question gives: "When did Antony Blinken hold talks?"
  wh only   "In which city?", "А с кем?" -> the previous question with this question word:
            "С кем МИД России опубликовал проекты договора?"
  parallel  "And in 2014?", "А Грушко?", "And what about short-range ones?" -> the previous
            question with the parallel number, name, "...-range" word or prepositional phrase
            swapped
  new topic "And the OSCE consultations?" (marked by And/А/И, nothing parallel) -> the previous
            question word asked of the new topic: "Where were the OSCE consultations?"
"""

from __future__ import annotations

import re

from qa.questions import (
    AUX,
    PREPS,
    W,
    bare_phrase,
    is_month,
    is_wh,
    is_wh_det,
    looks_like_name,
    marker,
    name_groups,
    outside_pronouns,
    split_wh,
    wh_only,
    wh_word,
    words,
)
from qa.types import Turn

_NUM = re.compile(r"\d+")
MAX_CARRIED = 8  # words of a previous answer carried into a question; longer spans are noise


def _finish(text: str) -> str:
    text = " ".join(text.replace(" ?", "?").split()).rstrip(" ?.!,;:")
    return text[:1].upper() + text[1:] + "?"


def resolve(question: str, lang: str, previous: Turn | None) -> str | None:
    """The question ``question`` asks in the context of the previous turn, when it leans on
    it; None when it stands on its own (or cannot be resolved), so it is answered as asked."""
    ws = words(question)
    if previous is None or not ws:
        return None
    skip = marker(ws, lang)
    q = " ".join(question[ws[skip].start :].split())  # without "And", "А"
    ws = words(q)
    got = _rewrite(q, ws, lang, bool(skip), previous)
    return got if got and got != _finish(question) else None


def _rewrite(q: str, ws: list[W], lang: str, marked: bool, previous: Turn) -> str | None:
    pron = outside_pronouns(q, ws, lang)
    if pron:
        return _with_antecedent(q, pron, lang, previous)
    if lang != previous.lang:  # the previous question's words cannot be spliced into this one
        return None
    if wh_only(ws, lang):
        return _swap_wh(q, previous)
    if not bare_phrase(ws, lang):
        return None
    phrase = q[: ws[-1].end]
    swapped = _swap_parallel(phrase, lang, previous.question)
    if swapped or not marked:
        return swapped
    return _new_topic(phrase, lang, previous.question)


# ---- pronouns ---------------------------------------------------------------------------------


def _antecedent(role: str, previous: Turn) -> str | None:
    """Who or what the pronoun stands for: the previous answer if it was a person (or a place,
    for "there"), else the names in the previous question (all of them for "they")."""
    ans = previous.answer
    if role == "there":
        return ans if ans and previous.qtype == "place" else None
    if ans and previous.qtype == "person":
        lead = name_groups(ans, first=True)  # the leading name of a long span
        return lead[0] if lead and len(ans.split()) > 4 else ans
    groups = name_groups(previous.question)
    if not groups:
        return None
    if role.startswith("plural"):
        return f" {'и' if previous.lang == 'ru' else 'and'} ".join(groups[:3])
    return groups[0]


def _with_antecedent(q: str, pron: list[tuple[W, str]], lang: str, previous: Turn) -> str | None:
    """Subject and object pronouns replaced by their antecedent (English; Russian nominative),
    other forms kept and followed by it in brackets: "их (США и НАТО)". When the antecedents
    come from the previous question, its answer comes along: "What did Lavrov and Putin
    discuss | on Monday?"."""
    out, at, used_answer = [], 0, False
    for w, role in pron:
        ante = _antecedent(role, previous)
        if ante is None:
            return None
        used_answer |= bool(previous.answer) and ante in previous.answer
        out.append(q[at : w.start])
        if role == "there":
            out.append(("в " if lang == "ru" else "in ") + ante)
        elif role.endswith("subj") and lang == previous.lang:
            out.append(ante)
        else:
            out.append(f"{w.text} ({ante})")
        at = w.end
    text = ("".join(out) + q[at:]).rstrip(" ?")
    carried = None if used_answer or lang != previous.lang else _carried(previous)
    if carried and not {w.low for w in words(carried)} <= {w.low for w in words(text)}:
        text += " " + carried
    return _finish(text)


# ---- "In which city?", "А с кем?" ---------------------------------------------------------------


def _swap_wh(phrase: str, previous: Turn) -> str | None:
    """The previous question asked with the new question word: "In which city | did Antony
    Blinken hold talks with Lavrov?"; a yes/no question gets it in front."""
    _, rest = split_wh(previous.question, previous.lang)
    rest = rest.rstrip("?").strip()
    if not words(rest):
        return None
    lead = words(rest)[0].low
    if lead in AUX.get(previous.lang, ()) or lead in PREPS[previous.lang]:
        rest = rest[:1].lower() + rest[1:]
    return _finish(f"{phrase.rstrip('?')} {_with_answer(rest, previous)}")


def _with_answer(rest: str, previous: Turn) -> str:
    """The previous question's rest with its answer put back where its question word was, so
    the new question keeps what is known and the reader does not give that answer again:
    "...did Lavrov meet Putin on Monday", "...опубликовал проекты договора 17 декабря"."""
    carried = _carried(previous)
    if not carried:
        return rest
    wh, _ = split_wh(previous.question, previous.lang)
    rw = words(rest)
    dangling = [  # "Who did Lavrov hold talks with | in Geneva?"
        w
        for i, w in enumerate(rw)
        if w.low in PREPS["en"] and (i + 1 == len(rw) or rw[i + 1].low in PREPS["en"])
    ]
    if dangling and previous.lang == "en" and is_wh(words(wh)[0].low, "en"):
        return f"{rest[: dangling[0].end]} {carried}{rest[dangling[0].end :]}"
    return f"{rest} {carried}"


def _carried(previous: Turn) -> str | None:
    """The previous answer as a phrase of the previous question: "on Monday", "in Geneva",
    "с США", "в городе Женеве", "на размещение ракет средней дальности"; None when it has no
    place in it (a subject in English, an answer to "how" or "why")."""
    ans, lang = previous.answer, previous.lang
    wh, rest = split_wh(previous.question, lang)
    if not ans or not wh or len(ans.split()) > MAX_CARRIED:
        return None
    ww, rw = words(wh), words(rest)
    at = next(i for i, w in enumerate(ww) if is_wh(w.low, lang))
    head = ww[at].low
    if lang == "en" and (not rw or rw[0].low not in AUX["en"]):
        return None  # "Who won ...": the answer was the subject; English wants it in front
    if words(ans)[0].low in PREPS[lang]:
        return ans
    if at and lang == "ru":  # "С кем" -> "с США", "В каком городе" -> "в городе Женеве"
        kept = [w.low if i == 0 else w.text for i, w in enumerate(ww) if i != at]
        return " ".join([*kept, ans])
    if at:  # "In which city" -> "in Geneva"
        return f"{ww[0].low} {ans}"
    if head in ("when", "where", "где"):
        year = re.fullmatch(r"(\w+ )?\d{4}", ans)
        return {"when": "in " if year else "on ", "где": "в ", "where": "in "}[head] + ans
    if head in ("когда", "кто", "что", "what", "which", "who", "whom") or is_wh_det(head, lang):
        return ans
    return None


# ---- "And in 2014?", "А Грушко?", "And the OSCE consultations?" ------------------------------------


def _replace(text: str, start: int, end: int, new: str) -> str:
    return _finish(text[:start] + new + text[end:])


def _swap_parallel(phrase: str, lang: str, prev: str) -> str | None:
    """The previous question with the part that parallels ``phrase`` swapped for it."""
    pw, ph = words(prev), words(phrase)
    nums_p = [w for w in pw if _NUM.fullmatch(w.text)]
    nums_n = [w for w in ph if _NUM.fullmatch(w.text)]
    if nums_n and len(nums_n) == len(nums_p):  # "And in 2014?" / "А 10 января?"
        out, at = [], 0
        months_p = [w for w in pw if is_month(w.low, lang)]
        months_n = [w for w in ph if is_month(w.low, lang)]
        pairs = list(zip(nums_p, nums_n))
        if len(months_p) == len(months_n):
            pairs += list(zip(months_p, months_n))
        for old, new in sorted(pairs, key=lambda p: p[0].start):
            out += [prev[at : old.start], new.text]
            at = old.end
        return _finish("".join(out) + prev[at:])
    if ph[0].low in PREPS[lang]:  # "And about sanctions?": the same preposition's phrase
        return _swap_prep(phrase, ph, prev, pw, lang)
    content = [w for w in ph if w.low not in ("the", "a", "an", "of", "and", "и")]
    if content and all(looks_like_name(w.text) for w in content):
        return _swap_name(phrase[content[0].start :], prev)
    return _swap_modifier(ph, prev, pw)


def _swap_prep(phrase: str, ph: list[W], prev: str, pw: list[W], lang: str) -> str | None:
    """ "about sanctions" for "about NATO": the previous phrase of the same preposition."""
    for i, w in enumerate(pw):
        if w.low == ph[0].low and i > 0:
            j = i + 1
            while j < len(pw) and pw[j].low not in PREPS[lang]:
                j += 1
            end = pw[j - 1].end if j > i + 1 else w.end
            return _replace(prev, w.start, end, phrase)
    return None


def _swap_name(name: str, prev: str) -> str | None:
    """The previous question's name that shares a word with ``name`` (or its first name)."""
    groups = name_groups(prev)
    if not groups:
        return None
    mine = {w.low for w in words(name)}
    target = next((g for g in groups if mine & {w.low for w in words(g)}), groups[0])
    found = re.compile(r"(?<!\w)" + re.escape(target) + r"(?!\w)").search(prev, 1)
    return _replace(prev, found.start(), found.end(), name) if found else None


def _swap_modifier(ph: list[W], prev: str, pw: list[W]) -> str | None:
    """ "short-range ones" for "medium-range missiles": the word with the same hyphenated tail."""
    for w in ph:
        if "-" not in w.text:
            continue
        tail = w.low.split("-", 1)[1]
        for p in pw:
            if "-" in p.text and p.low.split("-", 1)[1] == tail and p.low != w.low:
                return _replace(prev, p.start, p.end, w.text)
    return None


def _new_topic(phrase: str, lang: str, prev: str) -> str | None:
    """The previous question word asked about a new topic: "Where were the OSCE
    consultations?", "Где консультации ОБСЕ?" (Russian needs no verb for a place or a time).
    None for question words that do not carry over ("how many", "which", "кто")."""
    wh, _ = split_wh(prev, lang)
    first = wh_word(wh, lang)
    if lang == "ru":
        return _finish(f"{first} {phrase}") if first in ("где", "когда", "куда", "откуда") else None
    last = words(phrase)[-1].low
    plural = (last.endswith("s") and not last.endswith(("ss", "us"))) or " and " in phrase
    be = "were" if plural else "was"
    if first in ("where", "when", "what"):
        return _finish(f"{first} {be} {phrase}")
    if first in ("who", "whom"):
        return _finish(f"who took part in {phrase}")
    return None
