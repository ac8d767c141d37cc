"""Training examples for `qa train-reader` (qa.read.train), drawn from parallel SQuAD files:
positives are windows around the answer in all four EN/RU pairings, negatives windows of the
same article without it (see qa.read.train for the whole recipe)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError
from qa.eval import squad as evaluate
from qa.ingest import chunker

LANGS = ("en", "ru")


@dataclass(frozen=True)
class Item:
    """One question in one language over one paragraph version, with the answer's offsets."""

    qid: str
    question: str
    context: str
    start: int  # answer offsets in context
    end: int
    answer: str
    sentences: tuple[tuple[int, int], ...]
    others: tuple[int, ...]  # indices of the other paragraphs of the same article (in ``paras``)


@dataclass(frozen=True)
class Example:
    question: str
    passage: str
    start: int  # character offsets of the answer in passage; -1 for no answer
    end: int


def load(files: dict[str, Path], split: str) -> tuple[list[dict], list[tuple[Item, Item]]]:
    """(paragraphs as {lang: (context, sentence spans)}, [(English item, Russian item)] of the
    questions in ``split``). The files must be parallel: same articles, paragraphs, question
    ids, in the same order (as XQuAD is). A file that is not that is a one-line QAError."""
    try:
        return _load(files, split)
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        names = " and ".join(str(p) for p in files.values())
        raise QAError(
            f"{names}: not parallel SQuAD v1.1 files ({type(e).__name__}: {e}); "
            "pass --data EN.json RU.json"
        ) from None


def _load(files: dict[str, Path], split: str) -> tuple[list[dict], list[tuple[Item, Item]]]:
    data = {
        lg: json.loads(Path(p).read_text(encoding="utf-8-sig"))["data"] for lg, p in files.items()
    }
    paras: list[dict] = []
    pairs = []
    for ai, arts in enumerate(zip(*(data[lg] for lg in LANGS))):
        if evaluate.split_of(ai) != split:
            continue
        first = len(paras)
        n = len(arts[0]["paragraphs"])
        for pi, versions in enumerate(zip(*(a["paragraphs"] for a in arts))):
            here = len(paras)
            paras.append(
                {
                    lg: (v["context"], tuple(chunker.sentence_spans(v["context"], lg)))
                    for lg, v in zip(LANGS, versions)
                }
            )
            others = tuple(i for i in range(first, first + n) if i != here)
            for qas in zip(*(v["qas"] for v in versions)):
                if len({qa["id"] for qa in qas}) != 1:
                    raise ValueError(f"article {ai} paragraph {pi}: the files are not parallel")
                items = [_item(qa, *paras[here][lg], others) for qa, lg in zip(qas, LANGS)]
                if all(items):
                    pairs.append(tuple(items))
    return paras, pairs


def _item(qa: dict, ctx: str, sents, others) -> Item | None:
    a = qa["answers"][0]
    start = a["answer_start"]
    if ctx[start : start + len(a["text"])] != a["text"]:
        start = ctx.find(a["text"])
    if start < 0 or not sents:
        return None
    end = start + len(a["text"])
    return Item(qa["id"], qa["question"], ctx, start, end, a["text"], sents, others)


def _window(sents, lo: int, hi: int, rng: random.Random) -> tuple[int, int]:
    """A random run of 1-3 sentences covering sentences lo..hi (inclusive)."""
    size = min(len(sents), max(hi - lo + 1, rng.choice((1, 2, 3, 3))))
    first = rng.randint(max(0, hi - size + 1), min(lo, len(sents) - size))
    return sents[first][0], sents[first + size - 1][1]


def _positive(item: Item, question: str, rng: random.Random, whole: float) -> Example:
    sents = item.sentences
    lo = next(i for i, (s, e) in enumerate(sents) if e > item.start)
    hi = next(i for i, (s, e) in enumerate(sents) if e >= item.end)
    a, b = (0, len(item.context)) if rng.random() < whole else _window(sents, lo, hi, rng)
    return Example(question, item.context[a:b], item.start - a, item.end - a)


def _negative(item: Item, question: str, paras, lang: str, rng: random.Random) -> Example | None:
    """A window of the same paragraph away from the answer, or of a sibling paragraph."""
    sents = item.sentences
    far = [i for i, (s, e) in enumerate(sents) if e <= item.start or s >= item.end]
    if far and rng.random() < 0.5:
        i = rng.choice(far)
        a, b = sents[i]
        j = i + 1
        while j < len(sents) and j in far and rng.random() < 0.5:
            b = sents[j][1]
            j += 1
        ctx = item.context
    elif item.others:
        ctx, ss = paras[rng.choice(item.others)][lang]
        if not ss:
            return None
        i = rng.randrange(len(ss))
        a, b = ss[i][0], ss[min(len(ss) - 1, i + rng.choice((0, 1, 2)))][1]
    else:
        return None
    text = ctx[a:b]
    return None if item.answer.lower() in text.lower() else Example(question, text, -1, -1)


def examples(paras, pairs, rng: random.Random, whole: float = 0.15) -> list[Example]:
    """Positives in all four language pairings, and one negative each."""
    out = []
    for pair in pairs:
        for q_item in pair:
            for ctx_item, lang in zip(pair, LANGS):
                out.append(_positive(ctx_item, q_item.question, rng, whole))
                neg = _negative(ctx_item, q_item.question, paras, lang, rng)
                if neg:
                    out.append(neg)
    rng.shuffle(out)
    return out
