"""From the span reader's start and end logits to answers: the best span of a passage, its
runners-up, and whole words (qa.read.span_model runs the model)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Q_PREFIX, P_PREFIX = "query: ", "passage: "
MAX_ANSWER = 30  # tokens


@dataclass(frozen=True)
class SpanGuess:
    """The best span in one passage: character offsets into that passage and its logits."""

    passage: int  # index into the passages given
    start: int
    end: int
    score: float  # start + end logit of the span
    null: float  # start + end logit of "no answer"
    # log of the sum of exp(start + end logit) over every start and end in the passage: what
    # the span's score is normalized by when spans of several passages share one softmax
    mass: float = 0.0
    # the next best spans that overlap neither it nor each other: (start, end, score)
    others: tuple[tuple[int, int, float], ...] = ()

    @property
    def margin(self) -> float:
        return self.score - self.null


def decode(
    enc,
    i: int,
    start: np.ndarray,
    end: np.ndarray,
    text: str,
    passage: int,
    longest: int = MAX_ANSWER,
    runners_up: int = 3,
) -> SpanGuess:
    """Best start <= end within ``longest`` tokens of the passage, as character offsets, with
    up to ``runners_up`` next best spans that do not overlap it or each other."""
    seq = enc.sequence_ids(i)
    offsets = enc["offset_mapping"][i].tolist()
    ctx = np.array([s == 1 for s in seq])
    s_l = np.where(ctx, start, -1e9)
    e_l = np.where(ctx, end, -1e9)
    # Pairwise scores over the band i <= j < i + longest: row = width, column = start token.
    n = len(s_l)
    widths = min(longest, n)
    band = np.full((widths, n), -np.inf)
    for w in range(widths):
        band[w, : n - w] = s_l[: n - w] + e_l[w:]
    order = np.argsort(band, axis=None)[::-1]
    picked: list[tuple[int, int, float]] = []
    for flat in order[: 20 * (runners_up + 1)]:
        w, a = divmod(int(flat), n)
        score = float(band[w, a])
        if score < -1e8 or len(picked) > runners_up:
            break
        if all(a > j or a + w < i_ for i_, j, _ in picked):
            picked.append((a, a + w, score))
    shift = len(P_PREFIX)

    def chars(bi: int, bj: int) -> tuple[int, int]:
        a = max(0, offsets[bi][0] - shift)
        b = max(a, offsets[bj][1] - shift)
        while a < b and text[a].isspace():  # sentencepiece offsets include the leading space
            a += 1
        return whole_words(text, a, b)

    (bi, bj, best), rest = (picked[0], picked[1:]) if picked else ((0, 0, -np.inf), [])
    a, b = chars(bi, bj)
    mass = (
        float(np.logaddexp.reduce(start[ctx]) + np.logaddexp.reduce(end[ctx])) if ctx.any() else 0.0
    )
    others, taken = [], [(a, b)]
    for x, y, sc in rest:  # widened to whole words, a runner-up can meet a better span
        c, d = chars(x, y)
        if d > c and all(d <= p or q <= c for p, q in taken):
            others.append((c, d, sc))
            taken.append((c, d))
    others = tuple(others)
    return SpanGuess(passage, a, b, best, float(start[0] + end[0]), mass, others)


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened to whole words: subword tokens can end inside a word ("Женев" of
    "Женеве", "Аб" of "Абу Бакр"); an answer is never half a word."""
    if end <= start:
        return start, end
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end
