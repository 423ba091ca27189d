"""The service's packaging: a hardened systemd unit and a non-root container that run
``hrsync serve``."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(PACKAGING / "hrsync.service", encoding="utf-8")
    return parser


def test_the_systemd_unit_runs_hrsync_serve_unprivileged_and_hardened() -> None:
    service = unit()["Service"]
    assert " serve " in service["ExecStart"] and service["User"] not in ("", "root")
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "KillSignal": "SIGTERM",
        "UMask": "0077",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is absent")
def test_systemd_finds_nothing_wrong_with_the_unit_but_the_missing_program(tmp_path: Path) -> None:
    copy = tmp_path / "hrsync.service"
    copy.write_text((PACKAGING / "hrsync.service").read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "/usr/local/bin/hrsync" not in line
    ]
    assert problems == []


def test_the_container_runs_hrsync_serve_as_a_user_with_a_health_check() -> None:
    lines = (PACKAGING / "Dockerfile").read_text(encoding="utf-8").splitlines()
    user = next(line.split()[1] for line in lines if line.startswith("USER "))
    assert user not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert any("/healthz" in line for line in lines)
    cmd = next(line for line in lines if line.startswith("CMD "))
    assert '"serve"' in cmd
