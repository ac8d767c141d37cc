"""Expected failures, as exception classes. The CLI catches QAError in one place (qa.cli) and
prints its one-line message; the web app turns it into an error reply. Every message says
what to do next."""

from __future__ import annotations


class QAError(Exception):
    """An expected failure (no index, bad input, ...): a one-line message that says what to do."""


class UsageError(QAError):
    """Bad input from the user: an empty or huge question, a malformed setting."""


class IndexMissing(QAError):
    """No index where one was expected: run `qa build`."""


class IndexCorrupt(QAError):
    """An index that cannot be read or does not match the settings: rebuild it."""


class IndexBusy(QAError):
    """Another build holds the index's lock."""


class CorpusError(QAError):
    """An article file that cannot be read (binary, not UTF-8, too big, no text)."""


class FetchError(QAError):
    """A web page `qa add URL` cannot take: unreachable, an HTTP error, not HTML, too big."""


class BackendError(QAError):
    """The storage backend failed: a lost or refusing PostgreSQL server, a bad DSN."""


class ModelError(QAError):
    """A model file that is missing or damaged."""


class MissingExtra(QAError):
    """An optional dependency group that is not installed."""

    def __init__(self, extra: str, module: str):
        super().__init__(
            f"this needs the optional {module!r} package: install qa[{extra}] "
            f"(pip install -e '.[{extra}]')"
        )


def need(extra: str, module: str):
    """Import an optional module, or raise MissingExtra naming the extra that provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] == module.split(".")[0]:
            raise MissingExtra(extra, module) from None
        raise
