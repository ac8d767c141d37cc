"""`qa chat`: a conversation in the terminal; follow-up questions lean on the earlier turns."""

from __future__ import annotations

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
from qa.errors import UsageError

RESET = "/reset"
LEAVE = ("/quit", "/exit")
BANNER = (
    "qa chat: ask about the news in English or Russian; follow-up questions are understood in "
    f"context. {RESET} starts a new conversation, Ctrl-D leaves."
)


@cli.command()
@common
@k_option
@filter_options
@reader_option
@click.option("--json", "as_json", is_flag=True, help="Print each turn as JSON (one per line).")
def chat(settings: Settings, k, langs: str, since, until, outlets, reader, as_json: bool):
    """Chat about the indexed articles: ask, then ask follow-ups ("And the OSCE
    consultations?", "А с кем?", "What did they discuss?"); each answer says how a follow-up
    was understood. On a terminal: a prompt with line editing and history, /reset for a new
    conversation, Ctrl-D to leave. Otherwise each line of stdin is the next turn of one
    conversation (/reset lines allowed); --json prints one `qa ask --json` object per turn,
    with "interpreted_as" set for a follow-up.

    \b
    Examples:
      qa chat
      qa chat --lang ru                   # отвечать только по русским статьям
      printf 'Who is the US Secretary of State?\\nWhen did he hold talks with Lavrov?\\n' | qa chat
      printf 'Когда МИД России опубликовал проекты договора?\\nА с кем?\\n' | qa chat --json
    """
    from qa import pipeline

    settings = settings.with_(k=k, reader=reader)
    pipe = pipeline.Pipeline(settings)
    where = filters(langs, since, until, outlets)
    tty = sys.stdin.isatty()
    if tty:
        _ = pipe.index  # a missing index fails before the prompt, not after the first question
        pipe.warm_up()
        if not settings.quiet:
            click.echo(BANNER, err=True)
    lines = _prompted() if tty else (line.rstrip("\r\n") for line in sys.stdin)
    bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() and not as_json else ("", "")
    failed = _converse(pipe, lines, settings.k, where, as_json, bold, tty)
    if failed and not tty:
        sys.exit(1)


def _converse(pipe, lines, k: int, where: dict, as_json: bool, bold, tty: bool) -> bool:
    """Answer each line as the next turn; True if any line was not a question. On a terminal
    Ctrl-C while answering goes back to the prompt."""
    from qa import pipeline, render

    previous, failed = None, False
    for line in lines:
        q = line.strip()
        if not q:
            continue
        if q in LEAVE:
            break
        if q == RESET:
            previous = None
            click.echo("(new conversation)", err=True)
            continue
        try:
            ans = pipe.ask(q, k, previous=previous, **where)
        except KeyboardInterrupt:
            if not tty:
                raise
            click.echo("(interrupted)", err=True)
            continue
        except UsageError as e:  # a bad turn does not end the conversation; a broken index does
            failed = True
            emit_error(q, e, as_json, err=True)
            continue
        previous = pipeline.turn_of(ans)
        emit(render.answer_json(ans, k), as_json, lambda o: render.text(o, bold))
        if not as_json:
            click.echo()
    return failed


def _prompted():
    """Lines typed at a prompt, with readline's line editing and history (up arrow); Ctrl-C
    drops the line, Ctrl-D ends."""
    try:
        import readline  # noqa: F401 (input() edits lines and keeps history once it is loaded)
    except ImportError:  # not on every platform
        pass
    to_screen = sys.stdout.isatty()  # else the prompt would land in the results
    while True:
        try:
            if not to_screen:
                click.echo("? ", err=True, nl=False)
            yield input("? " if to_screen else "")
        except KeyboardInterrupt:
            click.echo("", err=True)
        except EOFError:
            click.echo("", err=True)
            return
