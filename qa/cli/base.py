"""The `qa` command group, its shared options, and the one error boundary: every command's
expected failure (a QAError) becomes one line on stderr and exit code 1, never a traceback.

stdout carries results only; progress and notes go to stderr. Exit codes: 0 ok (a "no answer"
is ok), 1 expected failure with a one-line message, 2 usage error.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from qa.config import READERS, Settings, env_var, load_settings, quiet_third_party
from qa.errors import QAError


class QAGroup(click.Group):
    """Catches QAError from any command, in one place."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except QAError as e:
            click.echo(f"qa: error: {e}", err=True)
            ctx.exit(1)


def settings_from(flags: dict) -> Settings:
    """Defaults < QA_* variables < the flags given (None: not given)."""
    try:
        base = load_settings()
    except ValueError as e:
        raise QAError(str(e)) from None
    return base.with_(**flags)


def logger(settings: Settings):
    """Notes to stderr, unless --quiet."""
    return (lambda m: None) if settings.quiet else (lambda m: click.echo(m, err=True))


def emit(obj: dict, as_json: bool, renderer) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False) if as_json else renderer(obj))


def emit_error(question: str, error: Exception, as_json: bool, err: bool = False) -> None:
    """A question that failed, in place of its answer: {"question", "error"} with --json, else
    the one-line message (on stderr with ``err``)."""
    if as_json:
        click.echo(json.dumps({"question": question, "error": str(error)}, ensure_ascii=False))
    else:
        click.echo(f"qa: error: {error}", err=err)


def common(f):
    """--corpus, --index, --quiet, --backend and --dsn, each also settable by its QA_* variable."""

    @click.option(
        "--corpus",
        type=click.Path(path_type=Path),
        default=None,
        help=f"Article directory [env {env_var('corpus')}; default ./corpus].",
    )
    @click.option(
        "--index",
        "index_dir",
        type=click.Path(path_type=Path),
        default=None,
        help=f"Index directory [env {env_var('index')}; default ./index].",
    )
    @click.option("-q", "--quiet", is_flag=True, default=None, help="No progress bars or notes.")
    @click.option(
        "--backend",
        type=click.Choice(["faiss", "postgres"]),
        default=None,
        help=f"Where the index lives [env {env_var('backend')}; default faiss (files in --index)].",
    )
    @click.option(
        "--dsn",
        default=None,
        help=f"PostgreSQL for --backend postgres, e.g. postgresql://qa@127.0.0.1:5432/qa "
        f"[env {env_var('dsn')}].",
    )
    @functools.wraps(f)
    def wrapper(*args, corpus, index_dir, quiet, backend, dsn, **kw):
        settings = settings_from(
            {"corpus": corpus, "index": index_dir, "quiet": quiet, "backend": backend, "dsn": dsn}
        )
        return f(settings, *args, **kw)

    return wrapper


@click.group(cls=QAGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qa")
def cli():
    """Ask questions about English and Russian news articles; get answers quoted verbatim
    from the articles, with the exact passage they came from.

    \b
    qa build                                   # index ./corpus into ./index
    qa ask "When did the US send its written response?"
    qa ask "Когда США передали России письменный ответ?"
    qa chat                                    # a conversation: follow-ups in context
    qa serve                                   # web UI on http://127.0.0.1:7860
    qa add new-article.html                    # copy into ./corpus and update the index
    qa eval xquad-dev.en.json xquad-dev.ru.json   # benchmark
    """
    quiet_third_party()


k_option = click.option(
    "-k",
    "k",
    type=click.IntRange(1, 50),
    default=None,
    help=f"Passages shown with each answer [env {env_var('k')}; default 5].",
)
LANG_CHOICE = click.Choice(["en", "ru", "both"])
reader_option = click.option(
    "--reader",
    type=click.Choice(READERS),
    default=None,
    help=f"Answer extractor: hybrid (span reader on the best-ranked sentences), typed or span "
    f"[env {env_var('reader')}; default hybrid].",
)


def filter_options(f):
    """--lang, --since, --until, --outlet: which articles may answer."""
    f = click.option(
        "--outlet",
        "outlets",
        multiple=True,
        help="Only articles from this outlet (repeatable), e.g. --outlet TASS.",
    )(f)
    f = click.option(
        "--until",
        type=click.DateTime(["%Y-%m-%d"]),
        default=None,
        help="Only articles published on or before this date (YYYY-MM-DD).",
    )(f)
    f = click.option(
        "--since",
        type=click.DateTime(["%Y-%m-%d"]),
        default=None,
        help="Only articles published on or after this date (YYYY-MM-DD).",
    )(f)
    f = click.option(
        "--lang",
        "langs",
        type=LANG_CHOICE,
        default="both",
        help="Answer only from articles in this language.",
    )(f)
    return f


def filters(langs: str, since, until, outlets) -> dict:
    """The filter options as Pipeline.ask keyword arguments."""
    return {
        "langs": None if langs == "both" else (langs,),
        "since": since and since.date().isoformat(),
        "until": until and until.date().isoformat(),
        "outlets": tuple(outlets),
    }
