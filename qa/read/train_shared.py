"""Stage 2 of `qa train-reader`: the span reader trained the way it is used (Clark & Gardner
2018, shared normalization).

At run time the hybrid reader hands the model the best ``READ`` sentences that `qa`'s own
retrieval and sentence ranking found, and picks one span among all of them or says "no answer".
So here each question is a *group*: those same sentences, retrieved by the real pipeline from
an index of every paragraph of the files (EN and RU), with one softmax over the start (and one
over the end) positions of every sentence plus a shared "no answer" logit (the mean of the
sentences' <s> logits). The answer is wherever its text occurs in a sentence of the gold
paragraph (either language); a group whose sentences miss it, or whose gold paragraph was
withheld, is an on-topic unanswerable example. Only "train" articles give groups.

Cells per question (EN and RU): the mixed corpus, the other language only, and - for every
third question - the mixed corpus with the gold paragraph withheld.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from qa.eval import squad as evaluate
from qa.read import span_model

READ = 4  # sentences per question (the hybrid reader reads 3 of them: ReaderParams.read)
STEPS = 470  # one pass over the ~1,880 groups of the XQuAD train articles, 4 a step


@dataclass(frozen=True)
class Group:
    question: str
    passages: tuple[str, ...]
    answers: tuple[tuple[int, int, int], ...]  # (passage, start, end) character offsets


def label(sentences, story: str, golds: tuple[str, ...]) -> tuple[tuple[int, int, int], ...]:
    """Every occurrence of a gold answer in a sentence of the gold paragraph. ``sentences``:
    (text, story) pairs."""
    out = []
    for i, (text, where) in enumerate(sentences):
        if where != story:
            continue
        for g in set(golds):
            at = text.find(g)
            if g and at >= 0:
                out.append((i, at, at + len(g)))
    return tuple(sorted(set(out)))


def groups(pipe, questions, seed: int = 13, progress=None) -> list[Group]:
    """The training groups of ``questions`` (qa.eval.squad.Question) on ``pipe``'s index."""
    from qa.read.sentences import ranked

    rng = random.Random(seed)
    p = pipe.reader_params
    out = []
    for n, q in enumerate(questions):
        query = pipe.query(q.text)
        held = evaluate.article_ids(q.story)
        cells = [(None, frozenset()), (("ru",) if q.lang == "en" else ("en",), frozenset())]
        if rng.random() < 1 / 3:
            cells.append((None, held))
        for langs, exclude in cells:
            hits = pipe.retrieve(query, 20, langs, exclude=exclude)
            top = ranked(pipe.index, query, hits, p)[:READ]
            sents = [
                (
                    x.sentence.text,
                    evaluate.story_of(pipe.index.articles[x.sentence.article_id].path),
                )
                for x in top
            ]
            if not sents:
                continue
            answers = () if exclude else label(sents, q.story, q.golds)
            out.append(Group(q.text, tuple(t for t, _ in sents), answers))
        if progress:
            progress(n)
    return out


def token_targets(enc, row: int, start: int, end: int) -> tuple[int, int] | None:
    """Token positions of the answer's first and last character in passage ``row``."""
    shift = len(span_model.P_PREFIX)
    s_tok = e_tok = None
    for t, (sid, (a, b)) in enumerate(zip(enc.sequence_ids(row), enc["offset_mapping"][row])):
        if sid != 1:
            continue
        a, b = int(a) - shift, int(b) - shift
        if s_tok is None and b > start:
            s_tok = t
        if a < end:
            e_tok = t
    if s_tok is None or e_tok is None or e_tok < s_tok:
        return None
    return s_tok, e_tok


def group_loss(start, end, enc, rows: range, g: Group):
    """-log P(answer) under one softmax over every context token of the group's passages and a
    shared "no answer" (the mean <s> logit), for start and end alike."""
    import torch

    ctx = torch.tensor([[sid == 1 for sid in enc.sequence_ids(r)] for r in rows])
    length = start.shape[1]
    s_pos, e_pos = [], []
    for p, a, b in g.answers:
        t = token_targets(enc, rows.start + p, a, b)
        if t:
            s_pos.append(p * length + t[0])
            e_pos.append(p * length + t[1])
    loss = 0.0
    for logits, pos in ((start, s_pos), (end, e_pos)):
        part = logits[rows.start : rows.stop]
        null = part[:, 0].mean().unsqueeze(0)
        flat = torch.cat([part.masked_fill(~ctx, -1e4).reshape(-1), null])
        gold = flat[pos] if pos else flat[-1:]
        loss = loss + torch.logsumexp(flat, 0) - torch.logsumexp(gold, 0)
    return loss / 2


def train(
    model,
    tok,
    data: list[Group],
    steps: int,
    per_step: int = 4,
    lr: float = 3e-5,
    seed: int = 13,
    log=print,
) -> dict:
    """Continue training ``model`` (BertForQuestionAnswering) on ``steps`` batches of
    ``per_step`` groups, drawn in a seeded order; returns what was done."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    order: list[Group] = []
    t0, losses = time.time(), []
    model.train()
    for step in range(steps):
        batch = []
        while len(batch) < per_step:
            if not order:
                order = list(data)
                rng.shuffle(order)
            batch.append(order.pop())
        qs = [g.question for g in batch for _ in g.passages]
        ps = [p for g in batch for p in g.passages]
        enc = span_model.encode(tok, qs, ps)
        res = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        loss, at = 0.0, 0
        for g in batch:
            rows = range(at, at + len(g.passages))
            loss = loss + group_loss(res.start_logits, res.end_logits, enc, rows, g)
            at = rows.stop
        loss = loss / len(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
        if (step + 1) % 25 == 0:
            avg = sum(losses[-25:]) / 25
            log(f"shared step {step + 1}/{steps} loss {avg:.3f} {time.time() - t0:.0f}s")
    model.eval()
    answered = sum(bool(g.answers) for g in data)
    return {
        "shared_groups": len(data),
        "shared_answerable": answered,
        "shared_steps": steps,
        "shared_per_step": per_step,
        "shared_lr": lr,
        "shared_seconds": round(time.time() - t0),
        "shared_final_loss": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 4),
    }
