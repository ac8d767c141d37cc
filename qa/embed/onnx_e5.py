"""e5 on ONNX Runtime (the default engine): questions and passages through one graph of e5's
transformer layers, with mean pooling and L2 normalization inside, fed token embeddings.

e5's 250k x 384 word-embedding matrix is 96M of its 117M weights: inside an fp32 graph it makes
a ~470 MB file that takes ~1.4 s to load and ~0.9 GB of memory. Kept out, the graph carries the
~21M transformer weights (~84 MB), and the matrix is an fp16 .npy that is memory-mapped, so a
question reads only the rows of its own tokens. The span reader (qa/read/span_onnx.py) uses the
same matrix and the same tokenizer (qa/embed/tokens.py), loaded once per process. Its vectors
agree with sentence-transformers' at cosine > 0.99999 (tests/e2e/test_onnx_embedder.py): one
model id for indexes built by either engine.

The files are written once into the model cache by ``ensure_exported`` (`qa build` calls it);
a missing or damaged file is written again, or named in a one-line error.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.atomic import write_atomic
from qa.embed import e5export, tokens
from qa.errors import ModelError, QAError

VERSION = 1  # bump when the graph's inputs, outputs or the file layout change
QUERY, PASSAGE = "query: ", "passage: "  # e5's prompts (config_sentence_transformers.json)
MAX_TOKENS = 512  # e5's model_max_length: sentence-transformers cuts texts there
MAX_THREADS = 4  # threads=None: one per core, up to this many
_EXPORT_LOCK = threading.Lock()
_TOKENS: dict[Path, tokens.Tokens] = {}
_TOKENS_LOCK = threading.Lock()


class Broken(Exception):
    """An export file that is missing or cannot be opened: write it again."""


def stderr_line(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def runtime() -> str:
    # Its own __version__, not importlib.metadata (~30 ms): the caller imports it next anyway.
    try:
        import onnxruntime

        return onnxruntime.__version__
    except ModuleNotFoundError:
        raise QAError(
            "onnxruntime is not installed: reinstall qa (pip install -e .) or set QA_ENGINE=torch"
        ) from None


@dataclass(frozen=True)
class Files:
    """Where the ONNX files of one e5 export live in the model cache."""

    dir: Path

    @classmethod
    def of(cls, cache: Path) -> Files:
        e5 = e5export.export_dir(Path(cache)).name
        return cls(Path(cache) / "models" / f"e5-onnx-v{VERSION}-{e5}")

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

    def encoder(self, runtime: str) -> Path:
        # Per onnxruntime version: a graph another version optimized may not load in this one.
        return self.dir / f"encoder-ort{runtime}.onnx"


def shared_tokens(files: Files) -> tokens.Tokens:
    """The process's one tokenizer of ``files`` (the embedder and the reader share it)."""
    with _TOKENS_LOCK:
        if files.mapping not in _TOKENS:
            _TOKENS[files.mapping] = tokens.Tokens(files.tokenizer, files.pruned, files.mapping)
        return _TOKENS[files.mapping]


def open_shared(files: Files, dim: int) -> tuple[tokens.Tokens, np.ndarray]:
    """(tokenizer, memory-mapped fp16 word embeddings), checked to fit a graph of ``dim``."""
    try:
        tok = shared_tokens(files)
        emb = np.load(files.embeddings, mmap_mode="r")
        # e5's matrix has a few more rows (250037) than its tokenizer has tokens (250002).
        rows, cols = emb.shape
        if emb.dtype != np.float16 or rows < tok.vocab_size or cols != dim:
            raise ValueError(f"{files.embeddings.name} does not fit the tokenizer and graph")
    except Exception as e:  # tokenizers and numpy raise their own types
        with _TOKENS_LOCK:
            _TOKENS.pop(files.mapping, None)
        raise Broken(f"{type(e).__name__}: {(str(e).splitlines() or [''])[0]}") from e
    return tok, emb


def default_threads() -> int:
    """One thread per core, at most MAX_THREADS: a question's few hundred tokens gain nothing
    from more, and on a 2-core machine this is both cores."""
    return max(1, min(os.cpu_count() or 1, MAX_THREADS))


def session(path: Path, threads: int | None):
    """An ONNX Runtime session of a graph optimized when it was written (``optimize``)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    # Optimizing again costs ~60 ms of every cold start and ~45 MB of memory.
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = int(threads or default_threads())
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only: a damaged file is reported by us, in one line
    # No busy-waiting between ops: on a 2-core machine with the other core busy, spinning
    # threads steal the time the work needs.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime's own error types
        raise Broken(f"{path.name}: {(str(e).strip().splitlines() or [''])[0][:200]}") from e


class Encoder:
    """The opened encoder: shared tokenizer and embeddings, and the graph's session."""

    def __init__(self, files: Files, threads: int | None, batch_size: int = 32):
        self.files, self.batch_size = files, max(1, batch_size)
        self.session = session(files.encoder(runtime()), threads)
        self.tokens, self.emb = open_shared(files, self.session.get_inputs()[0].shape[-1])

    def encode(self, texts: list[str], prompt: str, progress: bool = False) -> np.ndarray:
        """Normalized float32 [len(texts), dim] vectors, each text given e5's ``prompt`` and cut
        at MAX_TOKENS tokens, as sentence-transformers does."""
        ids = self.tokens.singles([prompt + t for t in texts], MAX_TOKENS)
        lengths = np.fromiter((len(r) for r in ids), dtype=np.int64, count=len(ids))
        # Longest first, so each batch holds texts of similar length: little padding.
        order = np.argsort(-lengths, kind="stable")
        out = None  # sized by the graph's output
        bar = _bar(len(texts), progress)
        try:
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                width = int(lengths[rows[0]])
                batch = np.zeros((len(rows), width), dtype=np.int64)  # row 0: a real row, masked
                mask = np.zeros((len(rows), width), dtype=np.int64)
                for j, r in enumerate(rows):
                    batch[j, : lengths[r]] = ids[r]
                    mask[j, : lengths[r]] = 1
                x = np.take(self.emb, batch, axis=0).astype(np.float32)
                vecs = self.session.run(None, {"inputs_embeds": x, "attention_mask": mask})[0]
                if out is None:
                    out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
                out[rows] = vecs
                if bar is not None:
                    bar.update(len(rows))
        finally:
            if bar is not None:
                bar.close()
        return out


def open_encoder(
    cache: Path, threads: int | None, batch_size: int = 32, log: Callable | None = stderr_line
) -> Encoder:
    """The encoder of ``cache``; missing or damaged files are written first (this needs torch
    for the graph: `qa build` does it at set-up, so `qa ask` never exports)."""
    files = Files.of(cache)
    with _EXPORT_LOCK:
        try:
            return Encoder(files, threads, batch_size)
        except Broken:
            pass
        if log:
            log(f"qa: exporting the e5 model to ONNX in {files.dir} (once, ~20 s)")
        from qa.embed import onnx_export

        folder = e5export.ready(Path(cache))
        onnx_export.write_shared(folder, files)
        with _TOKENS_LOCK:
            _TOKENS.pop(files.mapping, None)
        write_atomic(files.encoder(runtime()), lambda tmp: onnx_export.export_encoder(folder, tmp))
        for old in files.dir.glob("encoder-ort*.onnx"):  # other onnxruntimes' graphs
            if old != files.encoder(runtime()):
                old.unlink(missing_ok=True)
        onnx_export.remove_legacy(Path(cache), folder)
        try:
            return Encoder(files, threads, batch_size)
        except Broken as e:
            raise ModelError(
                f"the ONNX e5 model in {files.dir} cannot be opened ({e}): delete that folder "
                "and run `qa build`"
            ) from None


def ensure_exported(cache: Path, log: Callable | None = stderr_line) -> Files:
    """Write the ONNX files now unless loadable ones are there; returns where they are."""
    return open_encoder(cache, 1, log=log).files


def _bar(total: int, progress: bool):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="Embedding", unit="text", file=sys.stderr)
