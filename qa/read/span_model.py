"""The trained span reader: a question-answering head on the packaged e5 encoder.

`qa train-reader` (qa/read/train.py) fine-tunes the 12 transformer layers of
multilingual-e5-small plus a 2-logit span head on XQuAD, with the word embeddings frozen. Only
what differs from the packaged weights ships: those layers and the head in fp16
(qa/models/reader-delta.safetensors, ~43 MB). Here they are loaded on top of the embeddings of
the e5 folder qa/embed/e5export.py writes, so nothing is downloaded and nothing is trained at run time.

Two engines run it: "onnx" (qa/read/span_onnx.py: ONNX Runtime and the `tokenizers` library,
no torch, what `qa ask` uses) on a graph exported once by `ensure_exported`, and "torch"
(transformers: the reference the ONNX engine is tested against, and what training uses).

Scores are logits: a span scores start + end logit, "no answer" scores the two logits of the
first token (<s>). Trained last with one softmax over the spans of all the sentences it is
given for a question and one shared "no answer" (qa/read/train_shared.py), its scores compare
across sentences: qa.read.hybrid turns them into the probability of each span. Decoding
(best span, runners-up, whole words): qa/read/span_decode.py.
"""

from __future__ import annotations

import json
import threading
from functools import partial
from pathlib import Path

from qa.embed import e5export
from qa.errors import QAError
from qa.read.span_decode import MAX_ANSWER, P_PREFIX, Q_PREFIX, SpanGuess, decode, whole_words

DELTA = Path(__file__).parents[1] / "models" / "reader-delta.safetensors"

MAX_LEN = 256  # question + passage tokens; windows of 1-3 sentences fit with room to spare
__all__ = ["MAX_ANSWER", "P_PREFIX", "Q_PREFIX", "SpanGuess", "SpanModel", "decode", "whole_words"]


def build_model(folder: Path, load_base: bool = True):
    """BertForQuestionAnswering with the e5 weights of ``folder`` (unless ``load_base`` is
    False: the caller supplies them); the head randomly initialised."""
    import torch
    import transformers
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    transformers.logging.set_verbosity_error()
    config = BertConfig.from_pretrained(folder)
    config.num_labels = 2
    torch.manual_seed(0)
    model = BertForQuestionAnswering(config)
    from safetensors.torch import load_file

    if load_base:
        base = load_file(str(folder / "model.safetensors"))
        missing = model.bert.load_state_dict(base, strict=False)
        if [k for k in missing.missing_keys if not k.startswith("pooler")]:
            raise QAError(f"e5 folder {folder} does not fit the reader; delete it to re-export")
    for p in model.bert.embeddings.parameters():
        p.requires_grad = False  # the packaged embeddings (96M of 117M weights) stay as they are
    tok = AutoTokenizer.from_pretrained(str(folder))
    return model, tok


def delta_state(model) -> dict:
    """What the trained reader adds to the packaged e5 weights: encoder layers and head."""
    import torch

    return {
        k: v.detach().to(dtype=torch.float16).contiguous()
        for k, v in model.state_dict().items()
        if k.startswith("bert.encoder.") or k.startswith("qa_outputs.")
    }


def ensure_exported(cache: Path, delta: Path = DELTA) -> Path:
    """Export the ONNX reader of ``delta`` into ``cache`` unless a loadable one is there; call it
    at set-up (it needs torch only to export), so `qa ask` never exports. Returns the graph."""
    from qa.read import span_onnx

    _check(delta)
    ex = span_onnx.Export.of(cache, delta)
    span_onnx.open_reader(ex, 1, MAX_LEN, partial(_for_export, cache, delta))
    return ex.onnx


def _check(delta: Path) -> None:
    if not delta.exists():
        raise QAError(f"trained reader {delta} missing: run `qa train-reader`")


def _for_export(cache: Path, delta: Path):
    # The saved fp16 delta, not a model in memory: the graph must hold what the torch engine loads.
    return load_torch(cache, delta)[0]


def load_delta(delta: Path) -> dict:
    """The trained layers as float32 tensors, or a one-line QAError that names the fix."""
    from safetensors.torch import load_file

    _check(delta)
    try:
        return {k: v.float() for k, v in load_file(str(delta)).items()}
    except Exception as e:  # safetensors raises its own error types
        raise QAError(
            f"trained reader {delta} is unreadable ({e}): reinstall qa or run `qa train-reader`"
        ) from None


def load_torch(cache: Path, delta: Path, threads: int | None = None, embeddings=None):
    """(BertForQuestionAnswering with the delta applied, its HF tokenizer): the torch engine."""
    import torch

    _check(delta)
    if threads:
        torch.set_num_threads(threads)
    folder = e5export.ready(cache)
    # The delta replaces every encoder weight; only the embeddings come from e5.
    model, tok = build_model(folder, load_base=embeddings is None)
    if embeddings is not None:
        model.bert.embeddings = embeddings()
    got = model.load_state_dict(load_delta(delta), strict=False)
    lost = [k for k in got.missing_keys if k.startswith(("bert.encoder", "qa_out"))]
    if got.unexpected_keys or lost:
        raise QAError(f"{delta} does not match the e5 model: re-run training")
    model.eval()
    return model, tok


class SpanModel:
    """Loads lazily, once; `guess` finds the best span in each passage. ``engine`` "onnx" runs
    the export of qa.read.span_onnx (no torch); "torch" runs transformers (the reference)."""

    def __init__(
        self,
        cache: Path,
        delta: Path = DELTA,
        threads: int | None = None,
        embeddings=None,
        engine: str = "onnx",
    ):
        """``embeddings``: a callable returning the e5 embedding layer to share (the
        Embedder's, torch engine); without it the layer is read from the e5 folder."""
        if engine not in ("onnx", "torch"):
            raise QAError(f"engine {engine!r}: use onnx or torch")
        self.cache = Path(cache)
        self.engine = engine
        self.embeddings = embeddings
        self.delta = Path(delta)
        self.threads = threads
        self._model = None
        self._tok = None
        self._onnx = None
        self._lock = threading.Lock()

    def meta(self) -> dict:
        from safetensors import safe_open

        with safe_open(str(self.delta), "np") as f:  # "np": reading metadata needs no torch
            return json.loads((f.metadata() or {}).get("qa", "{}"))

    def _load(self):
        """The torch engine's (model, tokenizer)."""
        with self._lock:
            if self._model is None:
                self._model, self._tok = load_torch(
                    self.cache, self.delta, self.threads or 1, self.embeddings
                )
        return self._model, self._tok

    def _reader(self):
        """The ONNX engine's reader (rebuilt here only if set-up did not export it)."""
        with self._lock:
            if self._onnx is None:
                from qa.read import span_onnx

                _check(self.delta)
                ex = span_onnx.Export.of(self.cache, self.delta)
                load = partial(_for_export, self.cache, self.delta)
                self._onnx = span_onnx.open_reader(ex, self.threads, MAX_LEN, load)
        return self._onnx

    def guess(
        self, question: str, passages: list[str], batch: int = 16, longest: int = MAX_ANSWER
    ) -> list[SpanGuess]:
        """The best span of at most ``longest`` tokens in each passage (passage order kept)."""
        if not passages:
            return []
        run = self._run_onnx if self.engine == "onnx" else self._run_torch
        out = []
        for at in range(0, len(passages), batch):
            part = passages[at : at + batch]
            enc, starts, ends = run([question] * len(part), part)
            for i, text in enumerate(part):
                out.append(decode(enc, i, starts[i], ends[i], text, at + i, longest))
        return out

    def _run_torch(self, questions: list[str], passages: list[str]):
        import torch

        model, tok = self._load()
        enc = encode(tok, questions, passages)
        with torch.inference_mode():
            res = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        return enc, res.start_logits.numpy(), res.end_logits.numpy()

    def _run_onnx(self, questions: list[str], passages: list[str]):
        reader = self._reader()
        enc = reader.encode([Q_PREFIX + q for q in questions], [P_PREFIX + p for p in passages])
        return enc, *reader.logits(enc)


def encode(tok, questions: list[str], passages: list[str]):
    return tok(
        [Q_PREFIX + q for q in questions],
        [P_PREFIX + p for p in passages],
        truncation="only_second",
        max_length=MAX_LEN,
        padding=True,
        return_offsets_mapping=True,
        return_tensors="pt",
    )
