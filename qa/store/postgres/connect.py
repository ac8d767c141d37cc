"""Connecting to PostgreSQL, with errors that say what to do."""

from __future__ import annotations

from qa.errors import BackendError, need


def connect(dsn: str | None, autocommit: bool = True):
    """A connection, or a one-line QAError that says what to do."""
    psycopg = need("postgres", "psycopg")

    if not dsn:
        raise BackendError("the postgres backend needs a server: pass --dsn or set QA_DSN")
    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=10)
    except (psycopg.OperationalError, psycopg.ProgrammingError) as e:
        first = (str(e).strip().splitlines() or ["?"])[0].strip()
        raise BackendError(
            f"cannot connect to PostgreSQL ({first}): start the server or fix --dsn / QA_DSN"
        ) from None
