"""Command line: each subcommand is a few lines calling the library's functions.

Run ``themeassist --help`` or ``themeassist COMMAND --help``. Every command that embeds text
takes ``--cache-dir DIR`` (default: the user's cache folder) and ``--model`` (``minilm``,
``static`` or a local model folder). Every command that takes a codebook accepts a YAML/JSON
file, a CSV/XLSX table, a REFI-QDA ``.qdc`` codebook or the name of a built-in codebook (``iapt``).

One module per command group registers its subcommands (``register(sub)``) and runs them
(``args.func``); ``_common`` holds the options they share.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from themeassist.cli import audit, cache, demo, discover, drift, models, qda, report, suggest
from themeassist.cli._common import os_error_message, quiet_third_party
from themeassist.exceptions import ThemeassistError

__all__ = ["build_parser", "main"]

#: Command modules, in the order their commands are listed by ``--help``.
_COMMANDS = (discover, suggest, audit, drift, report, demo, qda, models, cache)


def build_parser() -> argparse.ArgumentParser:
    """The ``themeassist`` argument parser (one subparser per command)."""
    parser = argparse.ArgumentParser(prog="themeassist", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for module in _COMMANDS:
        module.register(sub)
    for name, p in sub.choices.items():  # --quiet everywhere: a script may pass it to every command
        try:
            p.add_argument("--quiet", action="store_true", help=f"no progress bars (`{name}` shows none)")
        except argparse.ArgumentError:  # the command has its own --quiet
            pass
    return parser


def cli_terms(message: str) -> str:
    """A library message in command-line terms: ``text_col='answer'`` reads ``--text-col 'answer'``.

    Examples
    --------
    >>> cli_terms("column 'txt' not found. Pass text_col='text'?")
    "column 'txt' not found. Pass --text-col 'text'?"
    """
    import re

    return re.sub(r"\b([a-z]+(?:_[a-z]+)*_col|date_format)=('[^']*'|<[^>]*>)?",
                  lambda m: "--" + m.group(1).replace("_", "-") + (f" {m.group(2)}" if m.group(2) else ""), message)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``themeassist`` command."""
    args = build_parser().parse_args(argv)
    restore = quiet_third_party()
    try:
        return int(args.func(args) or 0)
    except (ThemeassistError, ValueError) as exc:  # ValueError: a parameter out of range, refused by the library
        print(f"themeassist {args.command}: error: {cli_terms(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # permissions, full disk, symlink loops, ...: one line, no traceback
        print(f"themeassist {args.command}: error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"themeassist {args.command}: interrupted: run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        restore()
