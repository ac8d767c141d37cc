"""`qa eval`, `qa serve` and `qa train-reader`: benchmarks, the web UI, training."""

from __future__ import annotations

import json
from pathlib import Path

import click

from qa.cli.base import cli, common, k_option, logger, reader_option, settings_from
from qa.config import Settings


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
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw precision against coverage per cell into this PNG (needs qa[eval]).",
)
@reader_option
def eval_(
    settings: Settings,
    files: tuple[Path, ...],
    as_json: bool,
    workdir,
    limit,
    split: str | None,
    plot: Path | None,
    reader: str | None,
):
    """Benchmark retrieval and answers on SQuAD-format FILES (one per language; parallel files
    are paired by question id).

    \b
    Examples:
      qa eval ../shared/bench/xquad/xquad-dev.en.json ../shared/bench/xquad/xquad-dev.ru.json
      qa eval xquad-dev.ru.json --json > оценка.json     # только русские вопросы
      qa eval xquad-dev.en.json xquad-dev.ru.json --split heldout --plot precision.png
    """
    from qa.eval import curves
    from qa.eval import run as evaluate

    log = logger(settings)
    settings = settings.with_(reader=reader)
    if plot:  # before the long run: a missing matplotlib fails now, not after it
        from qa.errors import need

        need("eval", "matplotlib")
    result = evaluate.run(list(files), settings, workdir=workdir, limit=limit, log=log, split=split)
    if plot:
        name = ", ".join(Path(f).name for f in files) + (f" ({split})" if split else "")
        log(f"plotted {curves.plot(result['rows'], plot, title=name)}")
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
    from qa.web import app as ui

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
@click.option(
    "--epochs", type=click.IntRange(1, 20), default=2, show_default=True, help="Stage 1 epochs."
)
@click.option(
    "--shared-steps",
    type=click.IntRange(0),
    default=470,
    show_default=True,
    help="Stage 2 steps (4 questions each, over the sentences qa retrieves); 0 skips it.",
)
@click.option(
    "--base",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Skip stage 1: start stage 2 from this stage-1 reader (the *.stage1 file a run writes).",
)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the reader (default: qa/models/reader-delta.safetensors, the one "
    "`qa ask` loads).",
)
def train_reader(
    files: tuple[Path, Path],
    epochs: int,
    shared_steps: int,
    base: Path | None,
    seed: int,
    out: Path | None,
):
    """Train the span reader on the "train" articles of the XQuAD dev split, seeded: stage 1
    on windows around the answers, stage 2 on the sentences qa's own retrieval hands it, one
    softmax over them all and "no answer" (about 35 min on 2 idle cores in all). Never needed
    to use qa: the trained reader ships in qa/models/.

    \b
    Examples:
      qa train-reader
      qa train-reader --base qa/models/reader-delta.stage1 --out /tmp/читатель.safetensors
    """
    from qa.read import span_model
    from qa.read import train as train_reader

    settings = settings_from({})
    en, ru = files
    log = logger(settings)
    meta = train_reader.train(
        settings.model_cache,
        {"en": en, "ru": ru},
        out or span_model.DELTA,
        epochs=epochs,
        seed=seed,
        threads=max(2, settings.threads or 2),
        log=log,
        shared_steps=shared_steps,
        base=base,
        settings=settings,
    )
    click.echo(json.dumps(meta, ensure_ascii=False))
