"""The span reader on ONNX Runtime: what `qa ask` runs, without torch or transformers.

The graph takes token embeddings, not token ids, like the embedder's (qa/embed/onnx_e5.py): it
carries the ~21M fine-tuned transformer weights and the span head (~84 MB), and shares the
embedder's memory-mapped fp16 word embeddings and tokenizer, loaded once per process.

The export is written once into the model cache by `ensure_exported` (qa.read.span_model),
which `qa build` and `qa train-reader` call; it is keyed by the delta's bytes and the e5 export,
so a retrained reader gets a new graph.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.atomic import write_atomic
from qa.embed import onnx_e5
from qa.embed import tokens as span_tokens
from qa.errors import ModelError

OUTPUTS = ("start_logits", "end_logits")
Broken = onnx_e5.Broken


@dataclass(frozen=True)
class Export:
    """Where the ONNX reader for one delta lives in the model cache."""

    cache: Path
    files: onnx_e5.Files  # the e5 files it shares with the embedder, and its own graph's folder
    key: str  # hash of the delta's bytes
    runtime: str  # the onnxruntime version that optimized the graph

    @classmethod
    def of(cls, cache: Path, delta: Path) -> Export:
        files = onnx_e5.Files.of(cache)
        key = delta_key(delta, files.dir / "delta-keys.json")
        return cls(Path(cache), files, key, onnx_e5.runtime())

    @property
    def dir(self) -> Path:
        return self.files.dir

    @property
    def onnx(self) -> Path:
        return self.dir / f"reader-{self.key}-ort{self.runtime}.onnx"


def delta_key(delta: Path, memo: Path) -> str:
    """The first 16 hex digits of the delta's sha256: a retrained reader means a new graph.
    Remembered in ``memo`` by path, size and mtime (as git's index does): hashing 43 MB costs
    ~50-80 ms of every cold `qa ask`, and a retrained delta is a new file (a new mtime)."""
    st = delta.stat()
    stamp = f"{delta.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and isinstance(known.get(stamp), str):
        return known[stamp]
    h = hashlib.sha256()
    with open(delta, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    key = h.hexdigest()[:16]
    known = {k: v for k, v in list(known.items())[-15:] if k != stamp} | {stamp: key}
    try:  # best effort: without the memo the key is only slower to get
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(
            memo, lambda tmp: tmp.write_text(json.dumps(known, ensure_ascii=False), "utf-8")
        )
    except OSError:
        pass
    return key


class OnnxReader:
    """The exported reader, opened: shared tokenizer and embeddings, its ONNX session."""

    def __init__(self, ex: Export, threads: int | None, max_len: int):
        self.max_len = max_len
        self.sess = onnx_e5.session(ex.onnx, threads)
        self.tokens, self.emb = onnx_e5.open_shared(ex.files, self.sess.get_inputs()[0].shape[-1])

    def encode(self, questions: list[str], passages: list[str]) -> span_tokens.Encoded:
        """Prefixed question/passage pairs -> ids, mask, offsets (as span_model.encode)."""
        return self.tokens.encode(questions, passages, self.max_len)

    def logits(self, enc: span_tokens.Encoded) -> tuple[np.ndarray, np.ndarray]:
        # Row lookup in the fp16 memory map; the graph computes in fp32.
        x = np.take(self.emb, enc["input_ids"], axis=0).astype(np.float32)
        start, end = self.sess.run(
            OUTPUTS, {"inputs_embeds": x, "attention_mask": enc["attention_mask"]}
        )
        return start, end


def open_reader(ex: Export, threads: int | None, max_len: int, load: Callable) -> OnnxReader:
    """The reader of ``ex``; a missing or damaged export is rebuilt first from ``load()``, which
    returns the torch BertForQuestionAnswering with the delta applied."""
    try:
        return OnnxReader(ex, threads, max_len)
    except Broken:
        write(ex, load())
    try:
        return OnnxReader(ex, threads, max_len)
    except Broken as e:
        raise ModelError(
            f"the ONNX span reader in {ex.dir} cannot be opened ({e}): delete "
            "that folder and run `qa build`"
        ) from None


def write(ex: Export, model) -> None:
    """The reader's graph, atomically (another process may be reading the old one), after the
    e5 files it shares (written again only if they cannot be opened)."""
    onnx_e5.ensure_exported(ex.cache)
    write_atomic(ex.onnx, lambda tmp: _export_graph(model, tmp))
    # Graphs another onnxruntime optimized can never be loaded by this one (86 MB each).
    for old in ex.dir.glob("reader-*-ort*.onnx"):
        if not old.name.endswith(f"-ort{ex.runtime}.onnx"):
            old.unlink(missing_ok=True)


def _export_graph(model, path: Path) -> None:
    import torch

    class Reader(torch.nn.Module):
        """BertForQuestionAnswering from inputs_embeds: its forward, minus the word lookup."""

        def __init__(self, qa):
            super().__init__()
            self.qa = qa

        def forward(self, inputs_embeds, attention_mask):
            h = self.qa.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask)[0]
            start, end = self.qa.qa_outputs(h).split(1, dim=-1)
            return start.squeeze(-1), end.squeeze(-1)

    from qa.embed import onnx_export

    onnx_export.export_graph(Reader(model), model.config.hidden_size, list(OUTPUTS), path)
