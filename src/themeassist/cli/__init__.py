"""Command line: each subcommand is a few lines calling the library's functions.

Run ``themeassist --help`` or ``themeassist COMMAND --help``. Every command that embeds text
takes ``--cache-dir DIR`` (default: the user's cache folder) and ``--model`` (``minilm``,
``static`` or a local model folder). Every command that takes a codebook accepts a YAML/JSON
file or the name of a built-in codebook (``iapt``).

One module per command group registers its subcommands (``register(sub)``) and runs them
(``args.func``); ``_common`` holds the options they share.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from themeassist.cli import audit, demo, discover, drift, models, qda, report, suggest
from themeassist.exceptions import ThemeassistError

__all__ = ["build_parser", "main"]

#: Command modules, in the order their commands are listed by ``--help``.
_COMMANDS = (discover, suggest, audit, drift, report, demo, qda, models)


def build_parser() -> argparse.ArgumentParser:
    """The ``themeassist`` argument parser (one subparser per command)."""
    parser = argparse.ArgumentParser(prog="themeassist", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for module in _COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``themeassist`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ThemeassistError as exc:
        print(f"themeassist {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"themeassist {args.command}: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
