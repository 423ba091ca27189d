"""The command line never misleads: what it says about files, hosts, counts and flags is what
it does, and a command pays only for what it uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrsync.cli.main import app
from tests.support import run_main

HEAVY = (
    "sqlalchemy",
    "alembic",
    "httpx",
    "pydantic_settings",
    "fastapi",
    "uvicorn",
    "cryptography",
)


def loaded_after(*args: str) -> set[str]:
    """The heavy packages imported by ``hrsync ARGS`` in a fresh interpreter."""
    script = (
        "import sys\nfrom hrsync.cli.main import main\n"
        f"try:\n    main({list(args)!r})\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(done.stdout.split()[-1000:]) & set(HEAVY)


@pytest.mark.parametrize("args", [("version",), ("--help",), ("runs", "--help")])
def test_version_and_help_import_none_of_the_engine(args: tuple[str, ...]) -> None:
    heavy = loaded_after(*args)
    if args == ("runs", "--help"):
        assert "sqlalchemy" in heavy  # a command's own module loads when it is asked for
    else:
        assert heavy == set()


def test_the_top_help_lists_every_command_with_its_own_words() -> None:
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    text = " ".join(shown.stdout.split())
    assert "plan Show what would change in Cliq. Reads only: not one write is sent." in text
    assert "runs Earlier runs and their journal." in text
    assert 'sources HR systems hrsync reads through their own APIs ([source] kind = "rest")' in text


@pytest.mark.parametrize(
    "command", [[], ["plan"], ["apply"], ["config", "check"], ["runs", "list"]]
)
def test_bool_options_are_shown_as_flags_not_as_taking_a_value(command: list[str]) -> None:
    shown = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "<bool>" not in shown.stdout
    assert "--help" in shown.stdout


def test_a_missing_configuration_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (["plan"], ["config", "check"], ["runs", "list"], ["connections", "list"]):
        code, out, err = run_main(capsys, Path("nope.toml"), *command)
        assert code == 1, (command, out, err)
        assert "error: nope.toml: no such configuration file" in err, (command, err)
        assert "client" not in err
    assert run_main(capsys, Path("nope.toml"), "version")[:2] == (0, "0.1.0\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_counts_agree_with_their_nouns() -> None:
    from hrsync.plural import counted

    assert counted(1, "user") == "1 user"
    assert counted(0, "user") == "0 users"
    assert counted(1200, "department") == "1,200 departments"
    assert counted(1, "person's") == "1 person's"
    assert counted(2, "person's") == "2 people's"
    assert counted(3, "pending action") == "3 pending actions"
    assert counted(2, "check") == "2 checks" and counted(1, "problem") == "1 problem"
    assert counted(2, "policy") == "2 policies" and counted(2, "day") == "2 days"


def test_the_progress_bar_is_drawn_in_the_terminal_s_own_colours() -> None:
    import io

    from rich.console import Console

    from hrsync.cli.progress import CallProgress

    screen = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor", width=80)
    progress = CallProgress([], out=screen)
    assert progress.bar is not None
    with progress.bar:
        task = progress.bar.add_task("Applying", total=4, calls="")
        progress.bar.advance(task, 2)
        progress.bar.refresh()
    drawn = screen.file.getvalue()  # type: ignore[attr-defined]
    assert "━" in drawn
    assert "38;2;249;38;114" not in drawn  # rich's default red-pink for a bar in progress
