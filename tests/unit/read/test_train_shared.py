"""Stage 2 of training (qa.read.train_shared): labels, token targets and the shared loss, on
hand-made encodings (no model)."""

from __future__ import annotations

import pytest

from qa.read import span_model
from qa.read.train_shared import Group, group_loss, label, token_targets

torch = pytest.importorskip("torch")

SHIFT = len(span_model.P_PREFIX)


class Enc(dict):
    """What group_loss reads of a tokenizer's output: sequence ids and offsets per row.
    Each row: <s>, one question token, </s>, then one token per word of the passage."""

    def __init__(self, passages: list[str]):
        self.seq, offsets = [], []
        for text in passages:
            words, at = [], 0
            for w in text.split():
                at = text.index(w, at)
                words.append((at + SHIFT, at + len(w) + SHIFT))
                at += len(w)
            self.seq.append([None, 0, None] + [1] * len(words))
            offsets.append([(0, 0), (0, 5), (0, 0)] + words)
        width = max(len(o) for o in offsets)
        for s, o in zip(self.seq, offsets):
            s += [None] * (width - len(s))
            o += [(0, 0)] * (width - len(o))
        super().__init__(offset_mapping=offsets)
        self.width = width

    def sequence_ids(self, row: int):
        return self.seq[row]


PASSAGES = ["Talks were in Geneva on Friday.", "Lavrov met Blinken in Geneva."]


def test_label_finds_answers_in_gold_paragraph_sentences_only():
    sents = [("They met in Geneva.", "story-1"), ("Geneva again.", "story-2"), ("No.", "story-1")]
    assert label(sents, "story-1", ("Geneva", "Женеве")) == ((0, 12, 18),)
    assert label(sents, "story-3", ("Geneva",)) == ()


def test_token_targets():
    enc = Enc(PASSAGES)
    start = PASSAGES[0].index("Geneva")
    assert token_targets(enc, 0, start, start + len("Geneva")) == (6, 6)
    both = PASSAGES[0].index("Geneva on Friday")
    assert token_targets(enc, 0, both, both + len("Geneva on Friday")) == (6, 8)
    assert token_targets(enc, 0, 500, 510) is None  # cut off by truncation


def logits(enc, at: dict[tuple[int, int], float], null: float = 0.0):
    x = torch.zeros(len(PASSAGES), enc.width)
    x[:, 0] = null
    for (row, tok), v in at.items():
        x[row, tok] = v
    return x


def test_loss_rewards_the_answer_in_any_passage_and_null_without_one():
    enc = Enc(PASSAGES)
    at = PASSAGES[1].index("Geneva")
    g = Group("Where?", tuple(PASSAGES), ((1, at, at + 6),))
    rows = range(0, 2)
    right = logits(enc, {(1, 7): 8.0})  # "Geneva" in the second passage
    wrong = logits(enc, {(0, 6): 8.0})  # the first passage's "Geneva" is not labelled
    assert group_loss(right, right, enc, rows, g) < group_loss(wrong, wrong, enc, rows, g)
    assert float(group_loss(right, right, enc, rows, g)) < 0.1
    none = Group("Where?", tuple(PASSAGES), ())
    loud, quiet = logits(enc, {}, null=8.0), logits(enc, {}, null=-8.0)
    assert group_loss(loud, loud, enc, rows, none) < group_loss(quiet, quiet, enc, rows, none)


def test_loss_ignores_question_and_padding_tokens():
    """Only passage tokens and the shared "no answer" compete: a huge logit on a question
    token changes nothing."""
    enc = Enc(PASSAGES)
    g = Group("Where?", tuple(PASSAGES), ())
    base = logits(enc, {}, null=2.0)
    noisy = logits(enc, {(0, 1): 50.0, (1, 2): 50.0}, null=2.0)
    rows = range(0, 2)
    assert torch.isclose(
        group_loss(base, base, enc, rows, g), group_loss(noisy, noisy, enc, rows, g)
    )
