"""How an English or Russian question is built, as qa.followup reads it: its words, names,
question word and the rest, follow-up markers, pronouns. Word lists are lower case, ё folded
to е. No model: word lists and a few endings."""

from __future__ import annotations

import re
from dataclasses import dataclass

WH = {
    "en": frozenset("what which who whom whose where when why how".split()),
    "ru": frozenset(
        """что чего чему чем кто кого кому кем ком где куда откуда когда почему зачем отчего
        как сколько скольких скольким""".split()
    ),
}
# Question words that take a noun: "which city", "какой стране", "сколько страниц".
_WH_DET_EN = frozenset("which what whose how".split())
_WH_DET_RU = re.compile(
    r"(как(ой|ая|ое|ие|ого|ому|им|ом|ую|их|ими|ой)|котор\w+|чь?[еиья]\w*|скольк\w+)$"
)
# Words that may follow a bare question word and keep it bare: "Who else?", "Где именно?".
WH_TAIL = {
    "en": frozenset("else exactly then many much long far old often".split()),
    "ru": frozenset("же именно еще ещё тогда".split()),
}
AUX = {
    "en": frozenset(
        """do does did is are was were be been has have had will would can could should shall
        may might must""".split()
    ),
    "ru": frozenset(),
}
PREPS = {
    "en": frozenset(
        """in at on for with from to by about of since until during after before under into
        against between over among""".split()
    ),
    "ru": frozenset(
        "в во на с со о об обо от к ко по за из у до для при про через над под между перед без".split()
    ),
}
# Longest first: "and what about" before "and".
MARKERS = {
    "en": [
        ("and", "what", "about"),
        ("and", "how", "about"),
        ("what", "about"),
        ("how", "about"),
        ("and",),
        ("also",),
        ("but",),
    ],
    "ru": [
        ("а", "как", "насчет"),
        ("а", "что", "насчет"),
        ("а", "что", "с"),
        ("ну", "а"),
        ("а",),
        ("и",),
        ("но",),
    ],
}
# role: "subj" words are replaced by their antecedent, the others keep it in brackets.
PRONOUNS = {
    "en": {
        "he": "single subj",
        "she": "single subj",
        "him": "single subj",
        "they": "plural subj",
        "them": "plural subj",
        "his": "single",
        "her": "single",
        "hers": "single",
        "their": "plural",
        "theirs": "plural",
        "there": "there",
    },
    "ru": {
        **dict.fromkeys("он она".split(), "single subj"),
        "они": "plural subj",
        **dict.fromkeys("его ее ему ей него нее нему ней ним нем нею".split(), "single"),
        **dict.fromkeys("их им них ими".split(), "plural"),
        "там": "there",
    },
}
# Words after which a pronoun usually points back into the same question: "tapes ... them",
# "игрока ... , что он".
SUBORDINATE = frozenset(
    "that which who whose whom что чтобы который которая которое которые".split()
)
PLURAL_EN = frozenset("people children men women police".split())
MAX_PHRASE = 6  # words: "And the OSCE consultations in Vienna?" is still a phrase, not a question
_MONTH = {
    "en": re.compile(
        r"(january|february|march|april|may|june|july|august|september|october|november|"
        r"december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?"
    ),
    "ru": re.compile(
        r"(январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр)\w*"
    ),
}


def is_month(word: str, lang: str) -> bool:
    return bool(_MONTH[lang].fullmatch(word))


def is_wh(word: str, lang: str) -> bool:
    return word in WH[lang] or is_wh_det(word, lang)


def is_wh_det(word: str, lang: str) -> bool:
    """A question word that takes a noun after it."""
    if lang == "ru":
        return bool(_WH_DET_RU.match(word)) and word not in ("что", "чем", "чему")
    return word in _WH_DET_EN


# Past tense, infinitive, reflexive and -ает/-яет/-ует present: the verbs news questions use.
_VERB_RU = re.compile(
    r"(\w{2,}[иаяеуы]л(а|о|и)?(сь|ся)?|\w{2,}(ть|ться|чь)|\w{2,}(ется|ится|ются|ятся|ает|яет|ует))$"
)
_NOT_VERB_RU = frozenset(
    """генерал канал капитал сигнал финал материал персонал арсенал журнал идеал раздел отдел
    предел правило цели недели модели детали дали""".split()
)


def looks_verb_ru(word: str, lang: str) -> bool:
    """A Russian word with a verb's ending ("встретился", "заявил", "считает"); used only to
    tell a bare phrase ("А консультации ОБСЕ?") from a question with its own verb, so a noun
    taken for a verb only makes the question stand alone."""
    return lang == "ru" and word not in _NOT_VERB_RU and bool(_VERB_RU.fullmatch(word))


_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


@dataclass(frozen=True)
class W:
    start: int
    end: int
    text: str

    @property
    def low(self) -> str:
        return self.text.lower().replace("ё", "е")


def words(text: str) -> list[W]:
    return [W(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


_NOT_NAMES = frozenset(
    """i january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()
)


def is_name(ws: list[W], i: int) -> bool:
    """A capitalised word that is not just the question's first word (nor a month or a day),
    or an acronym."""
    return looks_like_name(ws[i].text, acronym_only=i == 0)


def looks_like_name(t: str, acronym_only: bool = False) -> bool:
    acronym = len(t) > 1 and t.isupper() and not t.isdigit()
    if acronym or acronym_only:
        return acronym
    return t[:1].isupper() and t.lower() not in _NOT_NAMES


def name_groups(text: str, first: bool = False) -> list[str]:
    """Runs of names ("Lavrov", "NATO Secretary General", "Secretary of State"), in order;
    ``first``: a capitalised first word is a name too (an answer span, not a question)."""
    ws, groups, run = words(text), [], []
    for i, w in enumerate(ws):
        if (
            is_name(ws, i)
            or (first and i == 0 and w.text[:1].isupper())
            or (run and w.low == "of" and i + 1 < len(ws) and is_name(ws, i + 1))
        ):
            run.append(w)
            continue
        if run:
            groups.append(text[run[0].start : run[-1].end])
        run = []
    if run:
        groups.append(text[run[0].start : run[-1].end])
    return groups


def marker(ws: list[W], lang: str) -> int:
    """How many leading words are a follow-up marker ("and what about", "а", "и")."""
    lows = [w.low for w in ws]
    for m in MARKERS[lang]:
        if lows[: len(m)] == list(m) and len(ws) > len(m):
            return len(m)
    return 0


def wh_only(body: list[W], lang: str) -> bool:
    """Only a question word, with a preposition before it and, for "which"/"какой"/"how",
    up to two words after it: "In which city?", "At what level?", "А с кем?", "How many?"."""
    i = 1 if body and body[0].low in PREPS[lang] else 0
    if i >= len(body) or not is_wh(body[i].low, lang):
        return False
    rest = body[i + 1 :]
    if not rest:
        return True
    if is_wh_det(body[i].low, lang):
        return len(rest) <= 2 and not any(
            w.low in AUX.get(lang, ()) or w.text[:1].isupper() or looks_verb_ru(w.low, lang)
            for w in rest
        )
    return all(w.low in WH_TAIL[lang] for w in rest)


def split_wh(question: str, lang: str) -> tuple[str, str]:
    """(the question's wh-phrase, the rest): "Where | did Lavrov ... 21?", "In which city |
    did ...", "На размещение каких ракет | Путин предложил ...". No question word: ("", all)."""
    ws = words(question)
    for i, w in enumerate(ws[:4]):
        if not is_wh(w.low, lang):
            continue
        if i and not (ws[0].low in PREPS[lang] and i <= 2):
            break
        end = i + 1
        if lang == "en":
            aux = next(
                (j for j in range(i + 1, min(i + 5, len(ws))) if ws[j].low in AUX["en"]), None
            )
            if aux is not None:
                end = aux
            elif w.low in ("which", "whose", "how") and end < len(ws):
                end += 1
        elif is_wh_det(w.low, "ru") and end < len(ws):
            end += 1  # "каких ракет", "сколько страниц"
        cut = ws[end].start if end < len(ws) else len(question)
        return question[:cut].strip(), question[cut:].strip()
    return "", question.strip()


def wh_word(wh: str, lang: str) -> str:
    """The question word of a wh-phrase ("in which city" -> "which"), or ""."""
    return next((w.low for w in words(wh) if is_wh(w.low, lang)), "")


def bare_phrase(body: list[W], lang: str) -> bool:
    """A short phrase with no question word and no verb we can see."""
    if not body or len(body) > MAX_PHRASE:
        return False
    return not any(
        is_wh(w.low, lang) or w.low in AUX.get(lang, ()) or looks_verb_ru(w.low, lang) for w in body
    )


def outside_pronouns(q: str, ws: list[W], lang: str) -> list[tuple[W, str]]:
    """(word, role) of each pronoun that points outside the question: "he" in "When did he
    ..." needs the conversation, "his" in "What did Lavrov say after his talks?" does not."""
    found = []
    for i, w in enumerate(ws):
        role = PRONOUNS[lang].get(w.low)
        if role is None:
            continue
        if _inside(q, ws, i, role):
            return []
        nxt = ws[i + 1].low if i + 1 < len(ws) else ""
        prev = ws[i - 1].low if i else ""
        if role == "there" and (nxt in AUX["en"] or prev in AUX["en"]):
            continue  # "Is there a chance", "there was": no place meant
        found.append((w, role))
    return found


def _inside(q: str, ws: list[W], i: int, role: str) -> bool:
    """Does the pronoun ws[i] have an antecedent in the question itself: a name before it, a
    clause of its own ("..., что он", "tapes ... that they"), or an English plural noun before
    a plural pronoun ("households ... in them")?"""
    before = ws[:i]
    if any(is_name(ws, j) for j in range(i)) or "," in q[: ws[i].start]:
        return True
    if any(w.low in SUBORDINATE for w in before[1:]):
        return True
    plural = [w.low for w in before if w.low in PLURAL_EN or _plural_en(w.low)]
    return role.startswith("plural") and bool(plural)


def _plural_en(word: str) -> bool:
    return (
        len(word) > 3
        and word.endswith("s")
        and not word.endswith(("ss", "us", "is", "'s", "’s"))
        and word not in AUX["en"]
        and not is_wh(word, "en")
    )
