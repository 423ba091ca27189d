"""The configuration reference (docs/reference/configuration.md) is a configuration hrsync
accepts."""

from __future__ import annotations

from pathlib import Path

from hrsync.config import load_settings

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "configuration.md"


def test_the_configuration_reference_loads(tmp_path: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    block = text.split("# Configuration reference", 1)[1].split("```toml", 1)[1]
    (tmp_path / "hrsync.toml").write_text(block.split("```", 1)[0], encoding="utf-8")
    settings = load_settings(tmp_path / "hrsync.toml")
    assert settings.rules.teams_per == ["department"]
    assert [r.name for r in settings.rules.roles] == ["Sales Lead"]
    assert settings.roles[0].permissions[0]["status"] == "disabled"
    assert settings.connect.network_id and settings.people.api_url.endswith("people.zoho.com")
    assert settings.scope.include and settings.scope.exclude and settings.scope.on_leave == "keep"
