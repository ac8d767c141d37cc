"""BM25 with per-language stemming (bm25s + PyStemmer Snowball stemmers).

One BM25 index per language. A question is matched only against passages of its own
language: across languages BM25 matches only shared names and numbers, and fusing those
weak hits measurably hurts cross-lingual retrieval (R@1 .848 -> .803 on XQuAD).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

TIE_DEPTH = 10
TIE_DECIMALS = 5  # BM25 scores run to ~20; float32 keeps ~7 digits
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)

STOP_EN = frozenset(
    """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves s t don said says also did according
""".split()
)
STOP_RU = frozenset(
    """
а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже для
до его ее ей ему если есть еще же за здесь и из или им их к как какая какие каким какой каков
какова каково каковы когда кого кому кто ли либо мне может мы на над надо наш не него нее нет ни
них но ну о об однако он она они оно от очень по под при с со так также такой там те тем то того
тоже той только том ты у уже хотя чего чей чем что чтобы чье чья эта эти это этого этой этом этот
я сколько почему зачем откуда куда который которая которое которые которых котором которой
ли между после перед через свой своей своих своим свои своего заявил сказал также
""".split()
)


@lru_cache(maxsize=2)
def _stemmer(lang: str):
    import Stemmer

    return Stemmer.Stemmer("russian" if lang == "ru" else "english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens (ё folded to е), in order, with their text kept for the reader."""
    return [w.lower().replace("ё", "е") for w in _WORD.findall(text)]


def passage_key(text: str) -> str:
    """Equal for verbatim copies that differ only in case, punctuation or spacing."""
    return " ".join(words(text))


def tokens(text: str, lang: str) -> list[str]:
    """Stemmed content words: what BM25 indexes and what the reader compares."""
    stop = STOP_RU if lang == "ru" else STOP_EN
    kept = [w for w in words(text) if w not in stop]
    return _stemmer(lang).stemWords(kept)


class LexicalIndex:
    """BM25 over the chunks of one language; rows are positions in the global chunk list."""

    def __init__(self, lang: str, rows: list[int], bm25=None, df: dict | None = None, n: int = 0):
        self.lang, self.rows, self.bm25, self.df, self.n = lang, rows, bm25, df or {}, n

    @classmethod
    def build(cls, lang: str, texts: list[str], rows: list[int]) -> LexicalIndex:
        import bm25s

        toks = [tokens(t, lang) for t in texts]
        df = Counter(t for doc in toks for t in set(doc))
        bm25 = None
        if toks:
            model = bm25s.BM25()
            model.index([d or [""] for d in toks], show_progress=False)
            bm25 = _Scores(model.vocab_dict, model.scores, model)
        return cls(lang, rows, bm25, dict(df), len(toks))

    def idf(self, token: str) -> float:
        """Smoothed inverse document frequency; unseen terms count as rare."""
        return math.log(1 + (self.n + 1) / (self.df.get(token, 0) + 0.5))

    def search(self, question_tokens: list[str], k: int) -> list[tuple[int, float]]:
        """[(global chunk row, BM25 score)] best first; empty if no term is known."""
        if self.bm25 is None:
            return []
        vocab = self.bm25.vocab_dict
        known = [t for t in question_tokens if t in vocab and t]
        if not known:
            return []
        # bm25s leaves equal scores (wire copies) in arbitrary order, and sums in float32, so
        # equal documents can differ in the last bit. Scores equal to 5 decimals, earlier row
        # first, make rankings reproducible and the same on every backend
        # (qa.store.postgres.index). A few extra rows let ties at the cut be ordered too.
        depth = min(k + TIE_DEPTH, len(self.rows))
        docs, scores = self.bm25.retrieve(known, depth)
        out = [(self.rows[int(d)], float(s)) for d, s in zip(docs, scores) if s > 0]
        out.sort(key=lambda x: (-round(x[1], TIE_DECIMALS), x[0]))
        return out[:k]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"lang": self.lang, "n": self.n, "df": self.df}
        (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
        np.save(folder / "rows.npy", np.asarray(self.rows, dtype=np.int64), allow_pickle=False)
        if self.bm25 is not None:
            self.bm25.model.save(str(folder / "bm25"), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        meta = json.loads((folder / "meta.json").read_text())
        rows = np.load(folder / "rows.npy", allow_pickle=False).tolist()
        bm25 = _Scores.load(folder / "bm25") if (folder / "bm25").exists() else None
        return cls(meta["lang"], rows, bm25, meta["df"], meta["n"])


class _Scores:
    """bm25s's precomputed BM25 matrix (one CSC column of document scores per term), searched
    with numpy alone: loading an index needs neither bm25s nor scipy (~0.3 s of imports in
    every `qa ask`). The sums are bm25s's own (float32, np.add.at in question-term order)."""

    def __init__(self, vocab: dict[str, int], scores: dict, model=None):
        self.vocab_dict, self.model = vocab, model  # model: the bm25s index, to save it
        self.data, self.indices = scores["data"], scores["indices"]
        self.indptr, self.num_docs = scores["indptr"], int(scores["num_docs"])

    @classmethod
    def load(cls, folder: Path) -> _Scores:
        """The files bm25s.BM25.save wrote (its format: *.csc.index.npy, vocab, params)."""
        arrays = {
            name: np.load(folder / f"{name}.csc.index.npy", allow_pickle=False)
            for name in ("data", "indices", "indptr")
        }
        params = json.loads((folder / "params.index.json").read_text())
        if params.get("method", "lucene") != "lucene":
            raise ValueError(f"BM25 method {params.get('method')!r} is not lucene")
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        return cls(vocab, {**arrays, "num_docs": params["num_docs"]})

    def retrieve(self, tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best (documents, scores) for the question's known tokens."""
        scores = np.zeros(self.num_docs, dtype=np.float32)
        for t in tokens:
            i = self.vocab_dict[t]
            a, b = self.indptr[i], self.indptr[i + 1]
            np.add.at(scores, self.indices[a:b], self.data[a:b])
        k = min(k, self.num_docs)
        top = np.argpartition(-scores, k - 1)[:k] if k < self.num_docs else np.arange(k)
        top = top[np.argsort(-scores[top], kind="stable")]
        return top, scores[top]


_CYR_LAT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya".split(),
    )
)


def translit(word: str) -> str:
    """Cyrillic -> Latin letters, so "Блинкен" can be seen to repeat "Blinken"."""
    return "".join(_CYR_LAT.get(ch, ch) for ch in word.lower()).replace("_", "")
