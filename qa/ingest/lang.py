"""Language of a question or an article: English or Russian.

langdetect (the design card's choice) is wrong on short questions ("Sanctions?" -> fr,
"Кто победил?" -> mk) and nondeterministic unless seeded. lingua restricted to the two
languages we serve is right on all of them and takes ~0.01 ms, so we use it. The alphabet
decides alone when a text uses only one: that is both exact and free.
"""

from __future__ import annotations

import re
from functools import lru_cache

LANGS = ("en", "ru")
_CYR = re.compile(r"[а-яёА-ЯЁ]")
_LAT = re.compile(r"[a-zA-Z]")


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.RUSSIAN).build()


def detect(text: str, default: str = "en") -> str:
    """'en' or 'ru'; ``default`` when the text has no letters of either alphabet."""
    sample = text[:5000]
    cyr, lat = len(_CYR.findall(sample)), len(_LAT.findall(sample))
    if cyr == 0 and lat == 0:
        return default
    if cyr == 0 or lat == 0:
        return "ru" if cyr else "en"
    # Mixed alphabets: names are capitalised and often kept in their own script ("Who is
    # Столтенберг?"), while the question's grammar is in lower-case words (and the first word).
    words = re.findall(r"[^\W\d_]+", sample)
    grammar = [w for i, w in enumerate(words) if i == 0 or not w[0].isupper()]
    g_cyr = sum(1 for w in grammar if _CYR.match(w))
    g_lat = sum(1 for w in grammar if _LAT.match(w))
    if g_cyr != g_lat:
        return "ru" if g_cyr > g_lat else "en"
    found = _detector().detect_language_of(sample)
    if found is None:
        return "ru" if cyr >= lat else "en"
    return "ru" if found.name == "RUSSIAN" else "en"
