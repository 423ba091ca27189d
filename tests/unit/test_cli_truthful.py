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


def test_checks_make_nothing_and_name_the_host_a_connection_really_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HRSYNC_SECRET_KEY", raising=False)
    config = tmp_path / "hrsync.toml"
    config.write_text('[store]\nurl = "sqlite:///data/hrsync.db"\n[cliq]\nconnection = "zc"\n')
    (tmp_path / "data").mkdir()
    code, out, _ = run_main(capsys, config, "config", "check")
    assert code == 1
    assert "store sqlite:///" in out and "(not made yet: the first run makes it)" in out
    assert "key file" in out and "(made when the first secret is sealed)" in out
    assert "[cliq] no connection named 'zc' (connections: none yet)" in out
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data", "hrsync.toml"]  # nothing made

    for reading in (["connections", "list"], ["runs", "list"], ["integrations", "list"]):
        assert run_main(capsys, config, *reading)[0] == 0, reading
    assert not list(tmp_path.rglob("hrsync.key"))  # reading seals nothing: no key

    monkeypatch.setenv("HRSYNC_CLIENT_SECRET", "s")
    monkeypatch.setenv("HRSYNC_PASSWORD", "pw")
    added = run_main(capsys, config, "connections", "add", "zc", "--service", "zoho_cliq",
                     "--client-id", "1000.X", "--api-url", "https://cliq.zoho.eu",
                     "--accounts-url", "https://accounts.zoho.eu")  # fmt: skip
    assert added[0] == 0, added
    assert (tmp_path / "data" / "hrsync.key").exists()  # beside the store, made by the seal
    assert not (tmp_path / "hrsync.key").exists()
    out = run_main(capsys, config, "config", "check")[1]
    assert "[cliq] https://cliq.zoho.eu via connection zc" in out
    assert "cliq.zoho.com" not in out


def test_a_key_an_older_hrsync_made_beside_the_configuration_is_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HRSYNC_SECRET_KEY", raising=False)
    from hrsync.config import load_settings

    config = tmp_path / "hrsync.toml"
    config.write_text('[store]\nurl = "sqlite:///data/hrsync.db"\n')
    assert load_settings(config).store.key_file == tmp_path / "data" / "hrsync.key"
    older = tmp_path / "hrsync.key"
    older.write_bytes(b"x" * 44)
    older.chmod(0o600)
    assert load_settings(config).store.key_file == older
    out = run_main(capsys, config, "config", "check")[1]
    assert f"{older} is read where an older hrsync made it" in " ".join(out.split())
    config.write_text('[store]\nurl = "postgresql+psycopg://u@db.example/hrsync"\n')
    assert load_settings(config).store.key_file == older  # a server: beside hrsync.toml


def test_config_check_notes_a_store_or_key_a_git_work_tree_would_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    config = tmp_path / "hrsync.toml"
    config.write_text("")
    out = " ".join(run_main(capsys, config, "config", "check")[1].split())
    assert "hrsync.db is inside a git work tree that does not ignore it" in out
    assert "hrsync.key is inside a git work tree that does not ignore it" in out
    (tmp_path / ".gitignore").write_text("hrsync.db\nhrsync.key\n")
    out = run_main(capsys, config, "config", "check")[1]
    assert "git work tree" not in out


def test_the_repository_ignores_the_store_and_the_key() -> None:
    ignored = (Path(__file__).parents[2] / ".gitignore").read_text().split()
    assert "hrsync.key" in ignored and ("*.db" in ignored or "hrsync.db" in ignored)


def test_zoho_unreachable_fails_at_once_naming_host_credentials_and_remedy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket
    import time

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "employees.csv").write_text(
        "employee_id,email,first_name,status\nE1,a@x.example,A,active\n"
    )
    config = tmp_path / "hrsync.toml"
    config.write_text(
        f'[cliq]\napi_url = "http://127.0.0.1:{port}"\naccounts_url = "http://127.0.0.1:{port}"\n'
        'allow_http = true\nclient_id = "1000.X"\nclient_secret = "s"\nrefresh_token = "r"\n'
    )
    started = time.monotonic()
    code, _, err = run_main(capsys, config, "plan")
    assert time.monotonic() - started < 5  # not 1 + 2 + 4 + 8 s of retries
    assert code == 1
    line = " ".join(err.split())
    assert (
        f"error: cannot reach 127.0.0.1:{port} for Zoho Cliq with the keys in hrsync.toml" in line
    )
    assert "Connection refused" in line
    assert "check that the host is up and reachable from here" in line
    assert "[cliq] api_url and accounts_url in hrsync.toml" in line


def test_an_unreachable_host_behind_a_connection_names_it() -> None:
    from hrsync.errors import Unreachable
    from hrsync.failures import describe_failure
    from hrsync.wiring import via_of

    error = Unreachable(
        "connection failed: [Errno 111] Connection refused",
        url="https://cliq.example.eu/api/v2/users",
    )
    error.via = via_of("cliq", "zc")
    assert describe_failure(error) == (
        "cannot reach cliq.example.eu for Zoho Cliq through connection zc (connection failed: "
        "[Errno 111] Connection refused): check that the host is up and reachable from here "
        "(network, firewall, HTTPS_PROXY), and the hosts of connection zc (`hrsync connections "
        "show zc`); then run again"
    )


def test_a_mistyped_command_is_met_with_the_nearest_one() -> None:
    shown = CliRunner().invoke(app, ["plna"], env={"COLUMNS": "200"})
    assert shown.exit_code == 2
    assert "No such command 'plna'. Did you mean 'plan'?" in shown.output
