"""The `qa` command: build, ask, show, serve, eval.

stdout carries results only; progress and notes go to stderr. Exit codes: 0 ok (a "no answer"
is ok), 1 expected failure with a one-line message, 2 usage error.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from qa.config import READERS, Settings, env_var, load_settings, quiet_third_party
from qa.types import QAError


def _settings(ctx_opts: dict) -> Settings:
    try:
        base = load_settings()
    except ValueError as e:
        raise QAError(str(e)) from None
    return base.with_(**ctx_opts)


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
        try:
            settings = _settings(
                {
                    "corpus": corpus,
                    "index": index_dir,
                    "quiet": quiet,
                    "backend": backend,
                    "dsn": dsn,
                }
            )
            return f(settings, *args, **kw)
        except QAError as e:
            click.echo(f"qa: error: {e}", err=True)
            sys.exit(1)

    return wrapper


def _emit(obj: dict, as_json: bool, renderer) -> None:
    if as_json:
        click.echo(json.dumps(obj, ensure_ascii=False))
    else:
        click.echo(renderer(obj))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qa")
def cli():
    """Ask questions about English and Russian news articles; get answers quoted verbatim
    from the articles, with the exact passage they came from.

    \b
    qa build                                   # index ./corpus into ./index
    qa ask "When did the US send its written response?"
    qa ask "Когда США передали России письменный ответ?"
    qa serve                                   # web UI on http://127.0.0.1:7860
    qa add new-article.html                    # copy into ./corpus and update the index
    qa eval xquad-dev.en.json xquad-dev.ru.json   # benchmark
    """
    quiet_third_party()


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
    log = (lambda m: None) if settings.quiet else (lambda m: click.echo(m, err=True))
    report = pipeline.build(settings, full=full, log=log)
    summary = report.as_dict()
    for p in summary["problems"]:
        log(f"skipped {p['path']}: {p['error']}")
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        click.echo(_build_line(summary))


def _build_line(summary: dict) -> str:
    return (
        f"{summary['added']} added, {summary['updated']} updated, "
        f"{summary['removed']} removed, {summary['unchanged']} unchanged; "
        f"{summary['chunks_embedded']} chunks embedded in {summary['seconds']:.1f}s "
        f"(index version {summary['version']})"
    )


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
    help=f"Answer extractor: hybrid (trained span reader + typed spans), typed or span "
    f"[env {env_var('reader')}; default hybrid].",
)


@cli.command()
@common
@click.argument("question")
@k_option
@click.option(
    "--lang",
    "langs",
    type=LANG_CHOICE,
    default="both",
    help="Answer only from articles in this language.",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Only articles published on or after this date (YYYY-MM-DD).",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Only articles published on or before this date (YYYY-MM-DD).",
)
@click.option(
    "--outlet",
    "outlets",
    multiple=True,
    help="Only articles from this outlet (repeatable), e.g. --outlet TASS.",
)
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
    """Answer QUESTION from the indexed articles; QUESTION "-" reads one per line from stdin.

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
    only = None if langs == "both" else (langs,)
    bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() and not as_json else ("", "")
    questions = (ln for ln in sys.stdin) if question == "-" else iter([question])
    failed = False
    for q in questions:
        if question == "-" and not q.strip():
            continue
        try:
            idx = pipe.index  # one version for the answer and its rendering
            ans = pipe.ask(
                q,
                settings.k,
                only,
                since and since.date().isoformat(),
                until and until.date().isoformat(),
                tuple(outlets),
                idx=idx,
            )
        except QAError as e:
            if question != "-" or "index" in str(e):
                raise
            click.echo(f"qa: error: {e}", err=True)  # one bad line does not stop the batch
            failed = True
            continue
        obj = render.answer_json(idx, ans, settings.k)
        _emit(obj, as_json, lambda o: render.text(o, bold))
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
    from qa import backends, render
    from qa.embedder import MODEL_ID

    idx = backends.open_backend(settings).load(MODEL_ID)
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


@cli.command(name="eval")
@common
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print all numbers (and per-question rows).")
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=None,
    help="Keep the benchmark corpus and index here (re-runs skip embedding).",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N questions.")
@click.option(
    "--split",
    type=click.Choice(["train", "tune", "heldout"]),
    default=None,
    help="Only questions of these articles (the trained reader's split; default all).",
)
@reader_option
def eval_(
    settings: Settings,
    files: tuple[Path, ...],
    as_json: bool,
    workdir,
    limit,
    split: str | None,
    reader: str | None,
):
    """Benchmark retrieval and answers on SQuAD-format FILES (one per language; parallel files
    are paired by question id).

    \b
    Examples:
      qa eval ../shared/bench/xquad/xquad-dev.en.json ../shared/bench/xquad/xquad-dev.ru.json
      qa eval xquad-dev.ru.json --json > оценка.json     # только русские вопросы
      qa eval xquad-dev.en.json xquad-dev.ru.json --split heldout --reader typed
    """
    from qa import evaluate

    log = (lambda m: None) if settings.quiet else (lambda m: click.echo(m, err=True))
    settings = settings.with_(reader=reader)
    result = evaluate.run(list(files), settings, workdir=workdir, limit=limit, log=log, split=split)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(evaluate.table(result))


@cli.command()
@common
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 makes the UI reachable from other machines.",
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=7860, show_default=True, help="TCP port."
)
@k_option
@reader_option
def serve(settings: Settings, host: str, port: int, k: int | None, reader: str | None):
    """Serve the web UI: a chat that answers from the same index as `qa ask`, with citations
    that open the article view. Also GET /api/ask?q=... (the `qa ask --json` object).

    \b
    Examples:
      qa serve                          # http://127.0.0.1:7860
      qa serve --port 8080 --index index
      QA_INDEX=индекс qa serve          # индекс из папки «индекс»
    """
    from qa import ui

    ui.serve(settings.with_(k=k, reader=reader), host, port)


@cli.command(name="train-reader")
@click.option(
    "--data",
    "files",
    nargs=2,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=(
        Path("../shared/bench/xquad/xquad-dev.en.json"),
        Path("../shared/bench/xquad/xquad-dev.ru.json"),
    ),
    show_default=True,
    help="Parallel SQuAD-format files: English, then Russian.",
)
@click.option("--epochs", type=click.IntRange(1, 20), default=2, show_default=True)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the reader (default: qa/models/reader-delta.safetensors, the one "
    "`qa ask` loads).",
)
def train_reader(files: tuple[Path, Path], epochs: int, seed: int, out: Path | None):
    """Train the span reader on the "train" articles of the XQuAD dev split (about 25 min on
    2 cores). Never needed to use qa: the trained reader ships in qa/models/.

    \b
    Examples:
      qa train-reader
      qa train-reader --epochs 4 --out /tmp/читатель.safetensors
    """
    from qa import span_model, train_reader

    try:
        settings = load_settings()
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    en, ru = files
    log = (lambda m: None) if settings.quiet else (lambda m: click.echo(m, err=True))
    meta = train_reader.train(
        settings.model_cache,
        {"en": en, "ru": ru},
        out or span_model.DELTA,
        epochs=epochs,
        seed=seed,
        threads=max(2, settings.threads),
        log=log,
    )
    click.echo(json.dumps(meta, ensure_ascii=False))


def main():
    cli(prog_name="qa")


@cli.command()
@common
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def add(settings: Settings, paths: tuple[Path, ...], as_json: bool):
    """Copy article files or folders (.txt, .md, .html, with same-name .json sidecars) into
    the corpus, in corpus/en/ or corpus/ru/ by their language, and update the index. An article
    already in the corpus is reported as a duplicate, not added twice.

    \b
    Examples:
      qa add ~/Downloads/lavrov-geneva.html        # one article
      qa add new/ --json                            # a folder, JSON summary
      qa add статьи/интервью.txt                    # русская статья -> corpus/ru/
    """
    from qa import intake

    log = (lambda m: None) if settings.quiet else (lambda m: click.echo(m, err=True))
    report = intake.add(settings, paths, log=log)
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
    from qa import pgschema

    click.echo(pgschema.init(settings.dsn, list(shards), settings.pg_schema))
