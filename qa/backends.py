"""Where the index lives, behind one small interface; chosen by ``--backend`` / QA_BACKEND.

A backend can:
- ``lock()``: one build at a time;
- ``live_version()``: the version readers should be serving (cheap: asked before every question);
- ``previous()``: the manifest and entries of the live version (what an incremental build keeps);
- ``commit(entries, add, remove_ids, manifest, full)``: add the new entries, remove the
  articles gone or changed, switch the version atomically;
- ``load(model_id)``: the live version's catalogue (metadata: articles, sentences, chunks) with
  its searches: ``dense_search``, ``sentence_search`` and ``lexical[lang].search``.

``faiss`` (the default) is the embedded index of qa.index: FAISS + bm25s files in a directory.
``postgres`` keeps the same data in PostgreSQL (pgvector, BM25 in SQL; qa.pgindex), on one
server or on a coordinator with shards (qa.pgschema), and gives the same answers.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from qa import index
from qa.config import Settings
from qa.types import QAError

NAMES = ("faiss", "postgres")


def open_backend(settings: Settings):
    if settings.backend == "faiss":
        return FaissBackend(settings.index)
    if settings.backend == "postgres":
        return PostgresBackend(settings.dsn, settings.pg_schema)
    raise QAError(f"unknown backend {settings.backend!r}: use one of {', '.join(NAMES)}")


class FaissBackend:
    name = "faiss"

    def __init__(self, root: Path):
        self.root = Path(root)

    def lock(self):
        from qa.pipeline import build_lock

        return build_lock(self.root)

    def live_version(self) -> str | None:
        return index.current_version(self.root)

    def load(self, model_id: str | None = None) -> index.Index:
        return index.load(self.root, model_id)

    def previous(self) -> tuple[dict, dict]:
        old = index.load(self.root)
        return old.manifest, old.reusable()

    def commit(self, entries, add, remove_ids, manifest, full, failpoint=None) -> str:
        # The whole index is rewritten as a new version directory (vectors of kept articles
        # are copies): FAISS flat and IVF indexes cannot drop rows cheaply.
        return index.Index(entries, manifest).save(self.root, failpoint)

    def collect_garbage(self) -> None:
        index.collect_garbage(self.root)


@contextmanager
def _pg_errors():
    """psycopg errors as one-line QAErrors that say what to do."""
    import psycopg

    try:
        yield
    except psycopg.errors.ReadOnlySqlTransaction:
        raise QAError("the server at --dsn is a read-only replica: build on the primary") from None
    except psycopg.OperationalError as e:
        first = (str(e).strip().splitlines() or ["?"])[0]
        raise QAError(f"lost the PostgreSQL server ({first}): restart it and run again") from None
    except psycopg.Error as e:
        first = (str(e).strip().splitlines() or ["?"])[0]
        raise QAError(f"PostgreSQL refused the operation: {first}") from None


class PostgresBackend:
    name = "postgres"

    def __init__(self, dsn: str | None, schema: str = "qa"):
        from qa import pgindex, pgschema

        self.schema = pgschema.check_schema(schema)
        self.conn = pgindex.connect(dsn)

    @contextmanager
    def lock(self):
        with _pg_errors():
            yield from self._lock()

    def _lock(self):
        # A session advisory lock, held for the whole build (embedding included), so two
        # builds never plan against the same old version.
        key = f"qa-build:{self.schema}"
        got = self.conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()
        if not got[0]:
            raise QAError(
                f"another `qa build` is updating schema {self.schema}; "
                "wait for it to finish and run again"
            )
        try:
            yield
        finally:
            self.conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

    def live_version(self) -> str | None:
        from qa import pgindex

        with _pg_errors():
            return pgindex.live_version(self.conn, self.schema)

    def load(self, model_id: str | None = None):
        from qa import pgindex

        with _pg_errors():
            return pgindex.load(self.conn, self.schema, model_id)

    def previous(self) -> tuple[dict, dict]:
        from qa import pgindex

        with _pg_errors():
            _, manifest = pgindex.read_meta(self.conn, self.schema)
            return manifest or {}, pgindex.previous(self.conn, self.schema)

    def commit(self, entries, add, remove_ids, manifest, full, failpoint=None) -> str:

        with _pg_errors():
            return self._commit(entries, add, remove_ids, manifest, full)

    def _commit(self, entries, add, remove_ids, manifest, full) -> str:
        from qa import pgschema, pgwrite

        if not pgschema.exists(self.conn, self.schema):
            pgschema.create_local(self.conn, self.schema)
        version = time.strftime("v-%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        manifest = {
            **manifest,
            "format_version": index.FORMAT_VERSION,
            "backend": "postgres",
            "n_articles": len(entries),
            "n_chunks": sum(len(e.chunks) for e in entries),
            "n_sentences": sum(len(e.sentences) for e in entries),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        pgwrite.write(self.conn, self.schema, add, remove_ids, manifest, version, full)
        for table, n in (("chunks", manifest["n_chunks"]), ("sentences", manifest["n_sentences"])):
            pgschema.ensure_ann(self.conn, self.schema, table, n)
        return version

    def collect_garbage(self) -> None:
        pass  # old rows are deleted in the commit's transaction; VACUUM reclaims the space
