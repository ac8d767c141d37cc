"""The PostgreSQL backend (qa.store.base.Backend): versions are rows in a schema, switched in
one transaction; builds hold a session advisory lock."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

from qa.errors import BackendError, IndexBusy, need
from qa.store.catalog import FORMAT_VERSION
from qa.store.versions import crash_at


@contextmanager
def _pg_errors():
    """psycopg errors as one-line QAErrors that say what to do."""
    psycopg = need("postgres", "psycopg")

    try:
        yield
    except psycopg.errors.ReadOnlySqlTransaction:
        raise BackendError(
            "the server at --dsn is a read-only replica: build on the primary"
        ) from None
    except psycopg.OperationalError as e:
        first = (str(e).strip().splitlines() or ["?"])[0]
        raise BackendError(
            f"lost the PostgreSQL server ({first}): restart it and run again"
        ) from None
    except psycopg.Error as e:
        first = (str(e).strip().splitlines() or ["?"])[0]
        raise BackendError(f"PostgreSQL refused the operation: {first}") from None


class PostgresBackend:
    name = "postgres"

    def __init__(self, dsn: str | None, schema: str = "qa"):
        need("postgres", "psycopg")
        from qa.store.postgres import schema as pgschema
        from qa.store.postgres.connect import connect

        self.schema = pgschema.check_schema(schema)
        self.conn = connect(dsn)

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
            raise IndexBusy(
                f"another `qa build` is updating schema {self.schema}; "
                "wait for it to finish and run again"
            )
        try:
            yield
        finally:
            self.conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

    def live_version(self) -> str | None:
        from qa.store.postgres import index as pgindex

        with _pg_errors():
            return pgindex.live_version(self.conn, self.schema)

    def load(self, model_id: str | None = None):
        from qa.store.postgres import index as pgindex

        with _pg_errors():
            return pgindex.load(self.conn, self.schema, model_id)

    def previous(self) -> tuple[dict, dict]:
        from qa.store.postgres import index as pgindex

        with _pg_errors():
            _, manifest = pgindex.read_meta(self.conn, self.schema)
            return manifest or {}, pgindex.previous(self.conn, self.schema)

    def commit(self, entries, add, remove_ids, manifest, full, failpoint=None) -> str:

        with _pg_errors():
            return self._commit(entries, add, remove_ids, manifest, full, failpoint)

    def _commit(self, entries, add, remove_ids, manifest, full, failpoint) -> str:
        from qa.store.postgres import schema as pgschema
        from qa.store.postgres import write as pgwrite

        if not pgschema.exists(self.conn, self.schema):
            pgschema.create_local(self.conn, self.schema)
        version = time.strftime("v-%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        manifest = {
            **manifest,
            "format_version": FORMAT_VERSION,
            "backend": "postgres",
            "n_articles": len(entries),
            "n_chunks": sum(len(e.chunks) for e in entries),
            "n_sentences": sum(len(e.sentences) for e in entries),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        # The crash tests' stages: killed before the write transaction, nothing changes;
        # killed after it, the new version is whole and live.
        crash_at("files-written", failpoint)
        pgwrite.write(self.conn, self.schema, add, remove_ids, manifest, version, full)
        crash_at("switched", failpoint)
        for table, n in (("chunks", manifest["n_chunks"]), ("sentences", manifest["n_sentences"])):
            pgschema.ensure_ann(self.conn, self.schema, table, n)
        return version

    def collect_garbage(self) -> None:
        pass  # old rows are deleted in the commit's transaction; VACUUM reclaims the space
