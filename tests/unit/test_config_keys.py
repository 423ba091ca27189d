"""A configuration is taken whole or refused with the nearest valid name, never half-read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hrsync.config import load_settings
from hrsync.errors import ConfigError


def refused(tmp_path: Path, text: str) -> str:
    config = tmp_path / "hrsync.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[safety]\nmax_deactivation_shares = 0.9\n",
            "safety.max_deactivation_shares: unknown key; did you mean "
            "safety.max_deactivation_share?",
        ),
        ("[safty]\nprotected_emails = []\n", "safty: unknown key; did you mean safety?"),
        ('[source]\ndelimeter = ";"\n', "did you mean source.delimiter?"),
        ('[cliq]\nclient_secert = "x"\n', "did you mean cliq.client_secret?"),
        ('[connect]\nnetwork = "1"\n', "did you mean connect.network_id?"),
        ('[store]\nkeyfile = "k"\n', "did you mean store.key_file?"),
        ('[rules]\nteam_per = ["department"]\n', "did you mean rules.teams_per?"),
        ('[[rules.teams]]\nname = "A"\nwhen_ = {}\n', "rules.teams.0.when_: unknown key; did"),
        ('[[roles]]\nname = "A"\nclone = "Members"\n', "did you mean roles.0.clone_of?"),
        (
            '[source]\nxyzzy = "?"\n',
            "source.xyzzy: unknown key; valid keys here: attributes, columns, ",
        ),
    ],
)
def test_an_unknown_key_is_refused_with_the_nearest_valid_name(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in refused(tmp_path, text)


def test_an_unknown_key_in_the_environment_is_refused_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HRSYNC_SAFETY__MAX_DEACTIVATION_SHARES", "0.9")
    assert "did you mean safety.max_deactivation_share?" in refused(tmp_path, "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[source]\nencoding = "utf-9"\n', "source.encoding: unknown encoding 'utf-9'; write"),
        ('[source]\ndelimiter = ";;"\n', "source.delimiter: ';;' is not one character"),
        ('[store]\nurl = "hrsync.db"\n', "store.url: 'hrsync.db' is not a database URL"),
        ('[store]\nurl = "mysql://h/db"\n', "store.url: 'mysql' databases are not supported"),
    ],
)
def test_values_that_would_fail_later_are_refused_when_read(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in refused(tmp_path, text)


def test_the_default_store_is_beside_the_config_file_not_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "hrsync.toml").write_text("", encoding="utf-8")
    (folder / "other.toml").write_text('[store]\nurl = "sqlite:///state/h.db"\n', "utf-8")
    monkeypatch.chdir(tmp_path)
    default = load_settings(Path("etc/hrsync.toml")).store.url
    assert default == f"sqlite:///{Path('etc') / 'hrsync.db'}"
    assert load_settings(folder / "hrsync.toml").store.url == f"sqlite:///{folder / 'hrsync.db'}"
    relative = load_settings(folder / "other.toml").store.url
    assert relative == f"sqlite:///{folder / 'state' / 'h.db'}"
    absolute = f"sqlite:///{tmp_path / 'abs.db'}"
    (folder / "abs.toml").write_text(f'[store]\nurl = "{absolute}"\n', "utf-8")
    assert load_settings(folder / "abs.toml").store.url == absolute
    server = "postgresql+psycopg://u:p@db.example/hr"
    (folder / "pg.toml").write_text(f'[store]\nurl = "{server}"\n', "utf-8")
    assert load_settings(folder / "pg.toml").store.url == server
    assert os.getcwd() == str(tmp_path)
