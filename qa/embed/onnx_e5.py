"""Passage embeddings through ONNX Runtime: the e5 folder (qa/embed/e5export.py) exported once
to an ONNX graph with mean pooling and L2 normalization inside, run with ``onnxruntime`` and
the folder's own ``tokenizer.json``.

A build process needs no torch: its first vector comes ~2.5 s after start instead of ~9 s.
Per text it is as fast as torch (both spend ~80% in fp32 matrix products at one thread); int8
would be ~1.8x faster but agrees with sentence-transformers at cosine ~0.994, below the 0.999
that keeps indexes built by either engine interchangeable, so the graph stays fp32."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qa.atomic import write_atomic
from qa.embed import e5export
from qa.errors import ModelError

ONNX_VERSION = 1  # bump when the graph (inputs, outputs, pooling) changes: forces a re-export
GRAPH = "passages.onnx"
STAMP = "passages-onnx.json"  # what the graph was exported from; written after the graph
TEMP_PREFIX = ".onnx-export-"
PREFIX = "passage: "  # e5's passage prompt, as in the folder's config_sentence_transformers.json
_EXPORT_LOCK = threading.Lock()


def stderr_line(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _weights_key(folder: Path) -> dict:
    # Size and mtime of the weights, not their hash: hashing 470 MB on every build costs ~1 s,
    # and e5export replaces the whole folder (new mtime) whenever the weights change.
    st = (folder / "model.safetensors").stat()
    return {
        "version": ONNX_VERSION,
        "weights_bytes": st.st_size,
        "weights_mtime_ns": st.st_mtime_ns,
    }


def _stamp_ok(folder: Path) -> bool:
    try:
        stamp = json.loads((folder / STAMP).read_text())
        graph_bytes = (folder / GRAPH).stat().st_size
        key = _weights_key(folder)
    except (OSError, ValueError):
        return False
    # A truncated or half-copied graph shows up as a size mismatch without reading 470 MB.
    return stamp.get("key") == key and stamp.get("graph_bytes") == graph_bytes


def max_length(folder: Path) -> int:
    """Tokens per text, as sentence-transformers truncates: the tokenizer's model_max_length
    (sentence-transformers 6 reads it from there), else sentence_bert_config's max_seq_length,
    else the model's position count."""
    for name, key in (
        ("tokenizer_config.json", "model_max_length"),
        ("sentence_bert_config.json", "max_seq_length"),
        ("config.json", "max_position_embeddings"),
    ):
        try:
            value = json.loads((folder / name).read_text()).get(key)
        except (OSError, ValueError):
            continue
        if isinstance(value, int) and 0 < value <= 100_000:  # HF writes 1e30 for "unlimited"
            return value
    return 512


def _remove_stale_temps(folder: Path) -> None:
    # An export killed midway leaves ~470 MB behind; an hour-old one is no live exporter's.
    for d in folder.glob(TEMP_PREFIX + "*"):
        try:
            if time.time() - d.stat().st_mtime > 3600:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def export(folder: Path) -> Path:
    """Export the e5 folder's BertModel (+ mean pooling + normalize) to ``folder/GRAPH``."""
    import torch
    import transformers

    transformers.logging.set_verbosity_error()

    class Pooled(torch.nn.Module):
        # sentence-transformers' Pooling(mean) and Normalize, so the graph's output is the
        # finished vector and the runtime needs no numpy post-processing.
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    # Eager attention: it traces to plain MatMul/Softmax with the padding mask applied, while
    # the sdpa path has data-dependent shortcuts that tracing would freeze.
    bert = transformers.BertModel.from_pretrained(str(folder), attn_implementation="eager")
    model = Pooled(bert.eval())
    # The dummy batch has padding, so the traced graph keeps the attention-mask branch.
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 5, 2, 1, 1]], dtype=torch.long)
    mask = (ids != 1).long()
    _remove_stale_temps(folder)
    with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX, dir=folder) as tmp:
        tmp_graph = Path(tmp) / GRAPH
        # The tracer warns about shapes it freezes; the agreement tests check the graph instead.
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (ids, mask),
                str(tmp_graph),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "embedding": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        # Same directory, so os.replace is atomic; the stamp goes last and names the size.
        os.replace(tmp_graph, folder / GRAPH)
    stamp = {"key": _weights_key(folder), "graph_bytes": (folder / GRAPH).stat().st_size}
    write_atomic(folder / STAMP, json.dumps(stamp).encode())
    return folder / GRAPH


def ensure_exported(cache: Path, log: Callable[[str], None] | None = stderr_line) -> Path:
    """The e5 folder with an up-to-date ONNX graph in it, exported now if needed (call it from
    `qa build` so the export happens at set-up, not on the first question). ``log`` gets one
    line when an export runs (None: silent)."""
    folder = e5export.export_dir(Path(cache))
    with _EXPORT_LOCK:
        if (folder / "qa-export.json").exists() and _stamp_ok(folder):
            return folder
        if log:
            log(f"qa: exporting the e5 model to ONNX in {folder} (once, ~15 s)")
        folder = e5export.ready(Path(cache))
        if not _stamp_ok(folder):
            export(folder)
    return folder


class PassageEncoder:
    """The ONNX passage model: load once (``threads`` intra-op threads), encode many batches."""

    def __init__(self, cache: Path, threads: int | None = 1, batch_size: int = 32):
        self.folder = ensure_exported(cache)
        self.batch_size = max(1, batch_size)
        self.max_length = max_length(self.folder)
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)  # counts <s> and </s>, as HF does
        self.tokenizer.no_padding()
        pad = self.tokenizer.token_to_id("<pad>")
        self.pad_id = 1 if pad is None else pad
        import onnxruntime as ort  # outside the try: a missing package is no damaged graph

        try:
            self.session = self._session(ort, threads)
        except Exception:
            # A graph that passed the size check but does not load (bit rot, a foreign file):
            # export it again once; if that fails too, say what to delete.
            self.folder.joinpath(STAMP).unlink(missing_ok=True)
            ensure_exported(cache)
            try:
                self.session = self._session(ort, threads)
            except Exception as e:
                first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
                raise ModelError(
                    f"cannot load {self.folder / GRAPH} ({first}): delete {self.folder} "
                    "and run `qa build` to export the model again"
                ) from None

    def _session(self, ort, threads: int | None):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads or 0)  # 0: one per core
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # errors only: no warnings about unused initializers
        # No busy-waiting between ops: on a 2-core machine with the other core busy, spinning
        # threads steal the time the work needs (the same trap as torch's OpenMP threads).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(
            str(self.folder / GRAPH), opts, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Normalized float32 [len(texts), dim] vectors of non-empty ``texts``, each given e5's
        "passage: " prompt and cut at max_length tokens, as sentence-transformers does."""
        encs = self.tokenizer.encode_batch([PREFIX + t for t in texts])
        lengths = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
        # Longest first, so each batch holds texts of similar length: little padding, and a
        # batch costs what its own texts cost.
        order = np.argsort(-lengths, kind="stable")
        out = None  # sized by the graph's first output
        bar = _bar(len(texts), progress)
        try:
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                width = int(lengths[rows[0]])
                ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
                mask = np.zeros((len(rows), width), dtype=np.int64)
                for j, r in enumerate(rows):
                    n = int(lengths[r])
                    ids[j, :n] = encs[r].ids
                    mask[j, :n] = 1
                vecs = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
                if out is None:
                    out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
                out[rows] = vecs
                if bar is not None:
                    bar.update(len(rows))
        finally:
            if bar is not None:
                bar.close()
        return out


def _bar(total: int, progress: bool):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="Embedding", unit="text", file=sys.stderr)
