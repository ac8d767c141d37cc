"""Settings: code defaults < QA_* environment variables < CLI flags.

This is the only module that reads ``os.environ``; everything else receives a Settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qa"


@dataclass(frozen=True)
class Settings:
    corpus: Path = Path("corpus")
    index: Path = Path("index")
    model_cache: Path = _default_cache()  # where the sentence-transformers folder is written
    k: int = 5  # passages shown with an answer
    # Index-shaping settings (stored in the manifest; changing them needs `qa build --full`).
    chunk_sentences: int = 3  # sentences per chunk: windows of 3 beat whole paragraphs
    chunk_stride: int = 1  # a window starts at every sentence, so every sentence is centred once
    # Retrieval.
    candidates: int = 50  # depth of each retriever before fusion
    dense_weight: float = 1.0  # chunk embeddings
    sentence_weight: float = 1.0  # sentence embeddings: +2-3 R@1 points across languages
    lexical_weight: float = 1.0  # BM25 in the question's language
    rrf_k: int = 10
    # Reader.
    # Below this confidence the reader abstains; None: the reader's own default (hybrid:
    # ReaderParams.threshold, a probability that the answer is right; typed: 0.4).
    min_score: float | None = None
    # "hybrid": the trained span reader reads the best 3 sentences of the sentence ranking,
    # which decides between its spans (best on the held-out XQuAD articles, docs/quality.md);
    # "typed": the typed extractor alone (no second model in memory); "span": the span reader
    # alone.
    reader: str = "hybrid"
    quiet: bool = False
    # Model runtime: "onnx" (ONNX Runtime for questions, passages and the span
    # reader: no torch in `qa ask`) or "torch" (sentence-transformers and transformers: the
    # reference the ONNX path is tested against).
    engine: str = "onnx"
    batch_size: int = 32
    # Intra-op threads per model. None: one per core (at most 4) for the span reader and builds (on
    # ONNX Runtime, without busy-waiting), one for question embeddings (a short sequence gains
    # nothing from a second thread) and for the torch engine (qa/embed/embedder.py).
    threads: int | None = None
    # Fault injection for the crash-safety tests: the build SIGKILLs itself at this stage.
    failpoint: str | None = None
    # Where the index lives: "faiss" (files in --index) or "postgres" (pgvector at --dsn).
    backend: str = "faiss"
    dsn: str | None = None  # e.g. postgresql://qa@127.0.0.1:5432/qa
    pg_schema: str = "qa"  # the schema holding the index's tables
    # Batch embedding on Dask workers for large builds: this many local workers (0: in-process),
    # or the workers of the scheduler at dask_scheduler (tcp://127.0.0.1:8786).
    embed_workers: int = 0
    dask_scheduler: str | None = None

    def __post_init__(self):
        for name in ("corpus", "index", "model_cache"):  # accept str paths from Python callers
            object.__setattr__(self, name, Path(getattr(self, name)))

    def with_(self, **changes) -> Settings:
        """A copy with the given fields changed; None values are ignored (unset CLI flags)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


READERS = ("hybrid", "typed", "span")
ENGINES = ("onnx", "torch")

_ENV = {
    "corpus": ("QA_CORPUS", Path),
    "index": ("QA_INDEX", Path),
    "model_cache": ("QA_MODEL_CACHE", Path),
    "k": ("QA_K", int),
    "candidates": ("QA_CANDIDATES", int),
    "dense_weight": ("QA_DENSE_WEIGHT", float),
    "lexical_weight": ("QA_LEXICAL_WEIGHT", float),
    "sentence_weight": ("QA_SENTENCE_WEIGHT", float),
    "min_score": ("QA_MIN_SCORE", float),
    "reader": ("QA_READER", str),
    "engine": ("QA_ENGINE", str),
    "batch_size": ("QA_BATCH_SIZE", int),
    "threads": ("QA_THREADS", int),
    "failpoint": ("QA_FAILPOINT", str),
    "backend": ("QA_BACKEND", str),
    "dsn": ("QA_DSN", str),
    "pg_schema": ("QA_PG_SCHEMA", str),
    "embed_workers": ("QA_EMBED_WORKERS", int),
    "dask_scheduler": ("QA_DASK_SCHEDULER", str),
}


def env_var(name: str) -> str | None:
    """The environment variable behind a setting (for --help texts and the README)."""
    return _ENV.get(name, (None,))[0]


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Defaults overridden by QA_* variables; a malformed value is a one-line ValueError."""
    environ = os.environ if environ is None else environ
    changes = {}
    for f in fields(Settings):
        if f.name not in _ENV:
            continue
        var, kind = _ENV[f.name]
        raw = environ.get(var)
        if raw is None or raw == "":
            continue
        try:
            changes[f.name] = kind(raw)
        except ValueError:
            raise ValueError(f"{var}={raw!r} is not a valid {kind.__name__}") from None
        if f.name == "reader" and raw not in READERS:
            raise ValueError(f"{var}={raw!r}: use one of {', '.join(READERS)}")
        if f.name == "engine" and raw not in ENGINES:
            raise ValueError(f"{var}={raw!r}: use one of {', '.join(ENGINES)}")
    return Settings().with_(**changes)


def quiet_third_party(environ: dict[str, str] | None = None) -> None:
    """Keep libraries offline and silent: no telemetry, no hub look-ups, no version checks."""
    environ = os.environ if environ is None else environ
    for var, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }.items():
        environ.setdefault(var, value)
