"""`qa ask` and `qa show`: answers and the articles they quote."""

from __future__ import annotations

import json
import sys

import click

from qa.cli.base import (
    cli,
    common,
    emit,
    emit_error,
    filter_options,
    filters,
    k_option,
    reader_option,
)
from qa.config import Settings
from qa.errors import QAError, UsageError


@cli.command()
@common
@click.argument("question")
@k_option
@filter_options
@reader_option
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (stable keys).")
def ask(
    settings: Settings,
    question: str,
    k: int | None,
    langs: str,
    since,
    until,
    outlets,
    reader: str | None,
    as_json: bool,
):
    """Answer QUESTION from the indexed articles; QUESTION "-" reads one per line from stdin
    and prints exactly one result per line (an error object for a bad line, exit code 1).

    \b
    Examples:
      qa ask "When did the US send its written response?"
      qa ask "Когда США передали России письменный ответ?" --json
      qa ask "Who met Putin?" --outlet TASS --since 2022-02-01
      printf 'Who met Putin?\\nГде прошли переговоры?\\n' | qa ask - --json
    """
    from qa import pipeline, render

    settings = settings.with_(k=k, reader=reader)
    pipe = pipeline.Pipeline(settings)
    where = filters(langs, since, until, outlets)
    bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() and not as_json else ("", "")
    show = lambda o: render.text(o, bold)  # noqa: E731
    if question != "-":
        emit(render.answer_json(pipe.ask(question, settings.k, **where), settings.k), as_json, show)
        return
    failed = False
    for line in sys.stdin:
        q = line.rstrip("\r\n")
        try:
            ans = pipe.ask(q, settings.k, **where)
        except UsageError as e:  # a bad line does not stop the batch; a broken index does
            failed = True
            emit_error(q, e, as_json)
            continue
        emit(render.answer_json(ans, settings.k), as_json, show)
    if failed:
        sys.exit(1)


@cli.command()
@common
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print article text and metadata as JSON.")
def show(settings: Settings, article_id: str, as_json: bool):
    """Print a cleaned article (the text that answer offsets index) with its metadata.

    \b
    Examples:
      qa show 3807a3dd9081                # by id, as printed by `qa ask`
      qa show ru/001_630c59ff8cc43173.txt --json   # или по пути в корпусе
    """
    from qa import render, store
    from qa.embed.embedder import MODEL_ID

    idx = store.open_backend(settings).load(MODEL_ID)
    art = idx.articles.get(article_id) or next(
        (a for a in idx.articles.values() if a.path == article_id), None
    )
    if art is None:
        raise QAError(f"no article {article_id!r} in the index: ids are printed by `qa ask`")
    obj = {**render.article_json(art), "text": art.text}
    if as_json:
        click.echo(json.dumps(obj, ensure_ascii=False))
    else:
        click.echo(f"{render.source_line(obj)}\n{obj['path']}  id {obj['id']}\n\n{art.text}")
