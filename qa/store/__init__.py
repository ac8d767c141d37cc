"""The index behind one interface (qa.store.base): FAISS + BM25 files by default, or
PostgreSQL (qa.store.postgres); chosen by ``--backend`` / QA_BACKEND."""

from __future__ import annotations

from qa.config import Settings
from qa.errors import QAError

NAMES = ("faiss", "postgres")


def open_backend(settings: Settings):
    """The backend the settings name (a qa.store.base.Backend)."""
    if settings.backend == "faiss":
        from qa.store.faiss_index import FaissBackend

        return FaissBackend(settings.index)
    if settings.backend == "postgres":
        from qa.store.postgres.backend import PostgresBackend

        return PostgresBackend(settings.dsn, settings.pg_schema)
    raise QAError(f"unknown backend {settings.backend!r}: use one of {', '.join(NAMES)}")
