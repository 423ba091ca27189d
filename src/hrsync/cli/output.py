"""Printing helpers for the CLI (the only layer that prints or exits).

With ``--json`` standard output carries exactly one JSON document, always an object with
``schema_version`` first; everything meant for people (progress, notes, prompts' context)
goes to standard error.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape

# Bumped when a key of any command's JSON output is renamed or removed (adding one is not).
JSON_SCHEMA_VERSION = 1

# Exit codes (README "Exit codes"; `hrsync --help`).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2  # plan --detailed-exitcode: something would change
EXIT_HELD = 3  # a safety guard holds the run for an admin
EXIT_PENDING = 4  # applied all it could; pending actions (an admin's task in Zoho) remain

console = Console()
errors = Console(stderr=True)


@dataclass
class Mode:
    """How this invocation prints: set once by the global options."""

    json: bool = False
    debug: bool = False
    verbose: bool = False


mode = Mode()


def set_mode(*, json_output: bool, debug: bool, verbose: bool) -> None:
    mode.json, mode.debug, mode.verbose = json_output, debug, verbose
    # In JSON mode, stdout is the document only: whatever is for people goes to stderr.
    console.file = sys.stderr if json_output else None  # type: ignore[assignment]


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    # One line per error, never wrapped, so logs and scripts can match it whole.
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if mode.json:
        emit_json({"error": message, "exit_code": code})
    sys.exit(code)


def emit_json(data: dict[str, Any]) -> None:
    """The command's one JSON document on stdout, with the schema version."""
    document = {"schema_version": JSON_SCHEMA_VERSION, **data}
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    sys.stdout.flush()
