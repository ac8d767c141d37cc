"""bench/speed.py, ONNX engines: multilingual-e5-small exported with torch.onnx (fp32) and
quantized to int8 by onnxruntime, and a small encoder that runs them. onnxruntime is not a
dependency of qa: the indexing section skips these engines when it is not installed.

Imported by bench/speed_index.py; not a script.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from time import perf_counter

import numpy as np

from qa.embed.embedder import DIM


class Onnx:
    """multilingual-e5-small exported with torch.onnx (opset 17, mean pooling and L2
    normalization inside the graph) and run by onnxruntime; batches of texts sorted by length."""

    def __init__(self, path: Path, folder: Path, sort: bool = True, threads: int = 0):
        import onnxruntime as ort
        from transformers import AutoTokenizer

        ort.set_default_logger_severity(3)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads  # 0: onnxruntime's default (one per core)
        self.sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.tok = AutoTokenizer.from_pretrained(str(folder))
        self.sort = sort

    def encode(self, texts: list[str], prefix: str, bs: int = 32) -> np.ndarray:
        order = (
            np.argsort([-len(t) for t in texts], kind="stable")
            if self.sort
            else np.arange(len(texts))
        )
        out = np.zeros((len(texts), DIM), np.float32)
        for i in range(0, len(texts), bs):
            rows = order[i : i + bs]
            enc = self.tok(
                [prefix + texts[j] for j in rows],
                padding=True,
                truncation=True,
                max_length=512,
                return_tensors="np",
            )
            feed = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")}
            out[rows] = self.sess.run(None, feed)[0]
        return out


def _pooled(bert):
    """The BERT model with e5's mean pooling and L2 normalization, as one torch module."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            h = self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            v = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(v, dim=-1)

    return Pooled(bert)


def _load(folder: Path):
    """The e5 BERT model and a two-text example batch to trace it with."""
    import transformers
    from transformers import AutoModel, AutoTokenizer

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(str(folder)).eval()
    enc = AutoTokenizer.from_pretrained(str(folder))(
        ["passage: a longer example text", "passage: short"], padding=True, return_tensors="pt"
    )
    return bert, enc


def _export(bert, enc, fp32: Path) -> None:
    import torch

    axes = {"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}, "vec": {0: "b"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _pooled(bert),
            (enc["input_ids"], enc["attention_mask"]),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["vec"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def export_onnx(folder: Path, dest: Path) -> dict:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    bert, enc = _load(folder)
    fp32, int8 = dest / "model.onnx", dest / "model.int8.onnx"
    t = perf_counter()
    _export(bert, enc, fp32)
    export_s = perf_counter() - t
    t = perf_counter()
    # Per-channel weights: per-tensor int8 agrees with fp32 at cosine ~0.985, per-channel ~0.996.
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    logging.getLogger().setLevel(logging.WARNING)  # the quantizer leaves the root logger at DEBUG
    return {
        "fp32": fp32,
        "int8": int8,
        "export_s": round(export_s, 1),
        "quantize_s": round(perf_counter() - t, 1),
        "fp32_mb": round(fp32.stat().st_size / 2**20),
        "int8_mb": round(int8.stat().st_size / 2**20),
    }


def onnx_packages() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("onnxruntime", "onnx"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", ".join(found)
