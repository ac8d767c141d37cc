"""The span reader on ONNX Runtime: what `qa ask` runs, without torch or transformers.

The graph takes token embeddings, not token ids. e5's 250k x 384 word-embedding matrix is 96M
of its 117M weights: inside an fp32 graph it makes a ~470 MB file that takes ~1.4 s to load.
Kept out, the graph carries the ~21M transformer weights (~84 MB; position and token-type
embeddings and the embedding LayerNorm stay inside), and the matrix is an fp16 .npy that is
memory-mapped, so a question reads only the rows of its own tokens. The tokenizer is
qa/read/span_tokens.py.

The export is written once into the model cache by `ensure_exported` (qa.read.span_model),
which `qa build` and `qa train-reader` call; it is keyed by the delta's bytes and the e5 export,
so a retrained reader gets a new graph.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.atomic import write_atomic
from qa.embed import e5export
from qa.errors import ModelError, QAError
from qa.read import span_tokens

VERSION = 1  # bump when the graph's inputs, outputs or file layout change
INPUTS, OUTPUTS = ("inputs_embeds", "attention_mask"), ("start_logits", "end_logits")


class Broken(Exception):
    """An export file that is missing or cannot be opened: rebuild it."""


@dataclass(frozen=True)
class Export:
    """Where the ONNX reader for one delta lives in the model cache."""

    dir: Path  # one per e5 export: the embeddings and tokenizer depend on e5 only
    key: str  # hash of the delta's bytes
    runtime: str  # the onnxruntime version that optimized the graph

    @classmethod
    def of(cls, cache: Path, delta: Path) -> Export:
        e5 = e5export.export_dir(Path(cache)).name
        folder = Path(cache) / "models" / f"span-reader-onnx-v{VERSION}-{e5}"
        return cls(folder, delta_key(delta, folder / "delta-keys.json"), _runtime())

    @property
    def onnx(self) -> Path:
        return self.dir / f"reader-{self.key}-ort{self.runtime}.onnx"

    @property
    def embeddings(self) -> Path:
        return self.dir / "word-embeddings.f16.npy"

    @property
    def tokenizer(self) -> Path:
        return self.dir / "tokenizer.json"

    @property
    def pruned(self) -> Path:
        return self.dir / "tokenizer-pruned.json"

    @property
    def mapping(self) -> Path:
        return self.dir / "tokenizer-pruned.npz"


def _runtime() -> str:
    # Its own __version__, not importlib.metadata (~30 ms): the reader imports it next anyway.
    try:
        import onnxruntime

        return onnxruntime.__version__
    except ModuleNotFoundError:
        raise QAError(
            "onnxruntime is not installed: reinstall qa (pip install -e .) or set QA_ENGINE=torch"
        ) from None


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
    """The exported reader, opened: tokenizer, memory-mapped embeddings, ONNX session."""

    def __init__(self, ex: Export, threads: int | None, max_len: int):
        import onnxruntime as ort  # Export.of has checked that it is installed

        try:
            self.tokens = span_tokens.Tokens(ex.tokenizer, ex.pruned, ex.mapping, max_len)
            self.emb = np.load(ex.embeddings, mmap_mode="r")
            self.sess = _session(ort, ex.onnx, threads)
            dim = self.sess.get_inputs()[0].shape[-1]
            # e5's matrix has a few more rows (250037) than its tokenizer has tokens (250002).
            rows, cols = self.emb.shape
            if self.emb.dtype != np.float16 or rows < self.tokens.vocab_size or cols != dim:
                raise ValueError(f"{ex.embeddings.name} does not fit the tokenizer and graph")
        except Exception as e:  # tokenizers, numpy and onnxruntime each raise their own types
            raise Broken(f"{type(e).__name__}: {(str(e).splitlines() or [''])[0]}") from e

    def encode(self, questions: list[str], passages: list[str]) -> span_tokens.Encoded:
        """Prefixed question/passage pairs -> ids, mask, offsets (as span_model.encode)."""
        return self.tokens.encode(questions, passages)

    def logits(self, enc: span_tokens.Encoded) -> tuple[np.ndarray, np.ndarray]:
        # Row lookup in the fp16 memory map; the graph computes in fp32.
        x = np.take(self.emb, enc["input_ids"], axis=0).astype(np.float32)
        start, end = self.sess.run(
            OUTPUTS, {"inputs_embeds": x, "attention_mask": enc["attention_mask"]}
        )
        return start, end


def _session(ort, path: Path, threads: int | None):
    opts = ort.SessionOptions()
    # The graph was optimized when it was written (see _optimize): doing it again costs ~60 ms
    # of every cold start and ~45 MB of memory (RSS 197 vs 151 MB, measured).
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = threads or 0  # 0: one thread per core
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only: a damaged file is reported by us, in one line
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def open_reader(ex: Export, threads: int | None, max_len: int, load: Callable) -> OnnxReader:
    """The reader of ``ex``; a missing or damaged export is rebuilt first from ``load()``, which
    returns (the torch BertForQuestionAnswering with the delta applied, the e5 folder)."""
    try:
        return OnnxReader(ex, threads, max_len)
    except Broken:
        write(ex, *load())
    try:
        return OnnxReader(ex, threads, max_len)
    except Broken as e:
        raise ModelError(
            f"the ONNX span reader in {ex.dir} cannot be opened ({e}): delete "
            "that folder and run `qa build`"
        ) from None


def write(ex: Export, model, folder: Path) -> None:
    """The files of the export, each atomically (another process may be reading them)."""
    ex.dir.mkdir(parents=True, exist_ok=True)
    span_tokens.write(folder / "tokenizer.json", ex.tokenizer, ex.pruned, ex.mapping, write_atomic)
    emb = model.bert.embeddings.word_embeddings.weight.detach().numpy().astype(np.float16)
    write_atomic(ex.embeddings, lambda tmp: _save_npy(tmp, emb))
    write_atomic(ex.onnx, lambda tmp: _export_graph(model, tmp))
    # Graphs another onnxruntime optimized can never be loaded by this one (86 MB each).
    for old in ex.dir.glob("reader-*-ort*.onnx"):
        if not old.name.endswith(f"-ort{ex.runtime}.onnx"):
            old.unlink(missing_ok=True)


def _save_npy(path: Path, a: np.ndarray) -> None:
    with open(path, "wb") as f:  # a file object: np.save would append ".npy" to a path
        np.save(f, a)


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

    x = torch.randn(2, 12, model.config.hidden_size)
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[1, 7:] = 0  # a padded row, so the trace keeps the attention mask
    axes = {n: {0: "batch", 1: "seq"} for n in INPUTS + OUTPUTS}
    plain = path.with_name(path.name + ".plain")
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Reader(model.eval()),
                (x, mask),
                str(plain),
                input_names=list(INPUTS),
                output_names=list(OUTPUTS),
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        _optimize(plain, path)
    finally:
        plain.unlink(missing_ok=True)


def _optimize(src: Path, dest: Path) -> None:
    """onnxruntime's graph optimizations (fused layer norms and GELUs), done once and saved.
    "Extended", not "all": the layout changes of "all" are specific to the machine's CPU."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = str(dest)
    opts.log_severity_level = 3
    ort.InferenceSession(str(src), opts, providers=["CPUExecutionProvider"])
