"""Writing the ONNX files of the default engine (qa/embed/onnx_e5.py, qa/read/span_onnx.py):
torch traces the graphs, onnxruntime optimizes them once, numpy writes the fp16 embeddings.
Only set-up (`qa build`, `qa train-reader`) or a damaged export runs this."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np

from qa.atomic import write_atomic
from qa.embed import tokens

INPUTS = ("inputs_embeds", "attention_mask")


def optimize(src: Path, dest: Path) -> None:
    """onnxruntime's graph optimizations (fused layer norms and GELUs), done once and saved.
    "Extended", not "all": the layout changes of "all" are specific to the machine's CPU."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = str(dest)
    opts.log_severity_level = 3
    ort.InferenceSession(str(src), opts, providers=["CPUExecutionProvider"])


def export_graph(module, dim: int, outputs: list[str], path: Path) -> None:
    """Trace ``module(inputs_embeds, attention_mask)`` to an optimized graph at ``path``."""
    import torch

    x = torch.randn(2, 12, dim)
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[1, 7:] = 0  # a padded row, so the trace keeps the attention mask
    axes = {n: {0: "batch", 1: "seq"} for n in INPUTS}
    axes |= {n: {0: "batch"} if n == "embedding" else {0: "batch", 1: "seq"} for n in outputs}
    plain = path.with_name(path.name + ".plain")
    try:
        # The tracer warns about shapes it freezes; the agreement tests check the graph instead.
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module.eval(),
                (x, mask),
                str(plain),
                input_names=list(INPUTS),
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        optimize(plain, path)
    finally:
        plain.unlink(missing_ok=True)


def export_encoder(folder: Path, path: Path) -> None:
    import torch
    import transformers

    transformers.logging.set_verbosity_error()

    class Pooled(torch.nn.Module):
        # BertModel from inputs_embeds, then sentence-transformers' Pooling(mean) and
        # Normalize: the graph's output is the finished vector.
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds, attention_mask):
            hidden = self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    # Eager attention: it traces to plain MatMul/Softmax with the padding mask applied, while
    # the sdpa path has data-dependent shortcuts that tracing would freeze.
    bert = transformers.BertModel.from_pretrained(str(folder), attn_implementation="eager")
    export_graph(Pooled(bert), bert.config.hidden_size, ["embedding"], path)


def write_shared(folder: Path, files) -> None:
    """The tokenizer files and the fp16 word embeddings of the e5 ``folder``, each atomically
    (another process may be reading them); no torch needed."""
    from safetensors import safe_open

    files.dir.mkdir(parents=True, exist_ok=True)
    tokens.write(
        folder / "tokenizer.json", files.tokenizer, files.pruned, files.mapping, write_atomic
    )
    with safe_open(str(folder / "model.safetensors"), "np") as f:
        emb = f.get_tensor("embeddings.word_embeddings.weight").astype(np.float16)
    write_atomic(files.embeddings, lambda tmp: _save_npy(tmp, emb))


# What earlier versions of qa exported, replaced by these files: a 470 MB passage graph in the
# e5 folder, and the span reader's own copy of the embeddings and tokenizer (~300 MB).
LEGACY = ("passages.onnx", "passages-onnx.json")
LEGACY_DIRS = "span-reader-onnx-v1-*"


def remove_legacy(cache: Path, e5: Path) -> None:
    """Delete those exports (qa's own cache files, rebuilt by an older qa if it ever runs)."""
    for name in LEGACY:
        (e5 / name).unlink(missing_ok=True)
    for d in (cache / "models").glob(LEGACY_DIRS):
        shutil.rmtree(d, ignore_errors=True)


def _save_npy(path: Path, a: np.ndarray) -> None:
    with open(path, "wb") as f:  # a file object: np.save would append ".npy" to a path
        np.save(f, a)
