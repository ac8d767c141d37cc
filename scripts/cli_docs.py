"""Write docs/cli.md from the --help text of `qa` and of every command, so the CLI reference
is the code's own words and cannot drift from it.

    .venv/bin/python scripts/cli_docs.py           # rewrite docs/cli.md
    .venv/bin/python scripts/cli_docs.py --check   # exit 1 if docs/cli.md is out of date

tests/unit/test_docs.py runs the same comparison in the test suite.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "cli.md"
# Click wraps help to the terminal's width; a fixed width keeps the file the same everywhere.
WIDTH = 100

HEADER = """\
# `qa` command reference

Generated from `qa --help` and `qa COMMAND --help` by `scripts/cli_docs.py`; do not edit by
hand: change the help text in `qa/cli/` and run `.venv/bin/python scripts/cli_docs.py`.
Settings and their environment variables are in the README's "Configuration" table.
"""


def help_text(args: list[str]) -> str:
    """The help `qa ARGS --help` prints, at WIDTH columns."""
    from click.testing import CliRunner

    from qa.cli import cli

    result = CliRunner().invoke(
        cli,
        [*args, "--help"],
        prog_name="qa",
        env={"COLUMNS": str(WIDTH)},
        terminal_width=WIDTH,
        max_content_width=WIDTH,
    )
    if result.exit_code != 0:
        raise RuntimeError(f"qa {' '.join(args)} --help failed: {result.output}")
    return result.output


def render() -> str:
    """The whole of docs/cli.md: the group's help, then every command's, sorted by name."""
    from qa.cli import cli

    names = sorted(cli.commands)
    links = "Commands: " + ", ".join(f"[`{n}`](#qa-{n})" for n in names) + "."
    parts = [
        HEADER,
        textwrap.fill(links, WIDTH, break_long_words=False, break_on_hyphens=False) + "\n",
    ]
    for title, args in [("qa", []), *((f"qa {n}", [n]) for n in names)]:
        parts.append(f"## {title}\n\n```\n{help_text(args).rstrip()}\n```\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/cli.md differs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # document this checkout's qa, whatever else is installed
    text = render()
    current = OUT.read_text(encoding="utf-8") if OUT.exists() else None
    if args.check:
        if current != text:
            print(
                f"{OUT.relative_to(ROOT)} is out of date with the commands' --help: "
                "run .venv/bin/python scripts/cli_docs.py",
                file=sys.stderr,
            )
            return 1
        return 0
    if current != text:
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
