"""`qa build`, `qa add` and `qa pg-init`: making and updating the index."""

from __future__ import annotations

import json
from pathlib import Path

import click

from qa.cli.base import cli, common, env_var, logger
from qa.config import Settings
from qa.errors import QAError


@cli.command()
@common
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of updating.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@click.option(
    "--embed-workers",
    type=click.IntRange(0),
    default=None,
    help=f"Embed on this many local Dask worker processes [env {env_var('embed_workers')}; "
    "default 0: in this process].",
)
def build(settings: Settings, full: bool, as_json: bool, embed_workers: int | None):
    """Build or update the index from the corpus (only new or changed articles are embedded).

    \b
    Examples:
      qa build                      # update ./index from ./corpus
      qa build --full --json        # rebuild everything, print a summary
      qa build --backend postgres --dsn postgresql://qa@127.0.0.1:5432/qa
      QA_CORPUS=статьи qa build     # корпус из папки «статьи»
    """
    from qa import pipeline

    settings = settings.with_(embed_workers=embed_workers)
    log = logger(settings)
    report = pipeline.build(settings, full=full, log=log)
    prepare_reader(settings)
    summary = report.as_dict()
    for p in summary["problems"]:
        log(f"skipped {p['path']}: {p['error']}")
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        click.echo(_build_line(summary))


def prepare_reader(settings: Settings) -> None:
    """Set-up: export the span reader for ONNX Runtime now (once; it needs torch, ~20 s), so
    `qa ask` and `qa serve` never do."""
    if settings.engine == "onnx" and settings.reader != "typed":
        from qa.read import span_model

        span_model.ensure_exported(settings.model_cache)


def _build_line(summary: dict) -> str:
    return (
        f"{summary['added']} added, {summary['updated']} updated, "
        f"{summary['removed']} removed, {summary['unchanged']} unchanged; "
        f"{summary['chunks_embedded']} chunks embedded in {summary['seconds']:.1f}s "
        f"(index version {summary['version']})"
    )


class FileOrURL(click.ParamType):
    """An existing file or folder, or an address with a scheme (checked when fetched)."""

    name = "FILE|URL"

    def convert(self, value, param, ctx):
        from qa.ingest import fetch

        if fetch.is_url(str(value)):
            return str(value)
        return click.Path(exists=True, path_type=Path).convert(value, param, ctx)


@cli.command()
@common
@click.argument("items", nargs=-1, required=True, type=FileOrURL())
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def add(settings: Settings, items: tuple, as_json: bool):
    """Copy article files or folders (.txt, .md, .html, with same-name .json sidecars) into
    the corpus, or fetch web pages by their http(s) URL, in corpus/en/ or corpus/ru/ by their
    language, and update the index. A fetched page is stored as HTML with a sidecar holding
    its URL (the article's link); an HTTP error, a non-HTML answer, a page over 5 MB or a page
    without article text adds nothing. An article already in the corpus is reported as a
    duplicate, not added twice.

    \b
    Examples:
      qa add ~/Downloads/lavrov-geneva.html        # one article
      qa add https://tass.com/politics/1401777     # a web page, fetched now
      qa add new/ --json                            # a folder, JSON summary
      qa add статьи/интервью.txt                    # русская статья -> corpus/ru/
      qa add https://ria.ru/20220126/lavrov.html    # страница по ссылке
    """
    from qa import intake

    log = logger(settings)
    report = intake.add(settings, items, log=log)
    if not report.copied and not report.duplicates and report.problems:
        raise QAError(f"nothing added: {report.problems[0]['error']}")
    summary = report.as_dict()
    for p in summary["problems"]:
        log(f"skipped {p['path']}: {p['error']}")
    for d in report.duplicates:
        log(f"duplicate: {d['path']} is already in the corpus as {d['same_as']}")
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        click.echo(
            f"{len(report.copied)} copied, {summary['duplicates']} duplicates; "
            + _build_line(summary)
        )


@cli.command(name="pg-init")
@common
@click.option(
    "--shard",
    "shards",
    multiple=True,
    help="A shard server's DSN (repeatable); without any, --dsn is a single node.",
)
def pg_init(settings: Settings, shards: tuple[str, ...]):
    """Create the index's tables on PostgreSQL: one node, or a coordinator (--dsn) whose
    tables are hash partitions on the --shard servers (postgres_fdw). Then build through --dsn.

    \b
    Examples:
      qa pg-init --dsn postgresql://qa@127.0.0.1:5432/qa
      qa pg-init --dsn postgresql://qa@10.0.0.1/qa --shard postgresql://qa@10.0.0.2/qa \\
                 --shard postgresql://qa@10.0.0.3/qa      # координатор и два шарда
    """
    from qa.store.postgres import schema as pgschema

    click.echo(pgschema.init(settings.dsn, list(shards), settings.pg_schema))
