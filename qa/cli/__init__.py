"""The `qa` command: build, add, ask, chat, show, serve, eval, train-reader, pg-init
(qa.cli.base holds the group, its options and the error boundary)."""

from __future__ import annotations

from qa.cli import ask, chat, index, tools  # noqa: F401 (the commands register on the group)
from qa.cli.base import cli


def main():
    cli(prog_name="qa")
