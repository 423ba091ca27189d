"""The documentation stays a site that builds and tells the truth: MkDocs builds docs/ with
--strict (a broken link or anchor, a page left out of the navigation fail it), every command
of ``hrsync`` is on the command-line page, every metric on the metrics page, and the README's
five-minute path maps every header of the example export it uses."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import typer.main

from hrsync.cli.main import app
from hrsync.model import CANONICAL_FIELDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_the_site_builds_strictly_with_no_warning(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr, built.stderr
    assert (tmp_path / "reference" / "configuration" / "index.html").exists()


def commands(group: Any, prefix: str = "hrsync") -> list[str]:
    found: list[str] = []
    for name, command in sorted(group.commands.items()):
        if command.hidden:
            continue
        if hasattr(command, "commands"):  # a group (Typer's own click, not click's)
            found += commands(command, f"{prefix} {name}")
        else:
            found.append(f"{prefix} {name}")
    return found


def test_every_command_is_on_the_command_line_page() -> None:
    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    listed = set()
    # a row may name several subcommands of one group: `hrsync runs list / show N / approve N`
    for group_name, rest in re.findall(r"`hrsync ([a-z-]+)([^`]*)`", page):
        listed.add(f"hrsync {group_name}")
        for part in rest.split("/"):
            if part.split() and part.split()[0].islower():
                listed.add(f"hrsync {group_name} {part.split()[0]}")
    missing = [c for c in commands(group) if c not in listed]
    assert not missing, f"not on docs/reference/cli.md: {missing}"


def test_every_metric_is_on_the_metrics_page() -> None:
    source = (ROOT / "src" / "hrsync" / "service" / "metrics.py").read_text(encoding="utf-8")
    page = (DOCS / "reference" / "metrics.md").read_text(encoding="utf-8")
    defined = set(re.findall(r'"(hrsync_[a-z_]+)"', source))
    assert defined
    missing = sorted(m for m in defined if m not in page)
    assert not missing, f"not on docs/reference/metrics.md: {missing}"


def test_the_readme_five_minute_path_maps_every_header_of_the_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    trial = readme.split("## Your own CSV against the local Zoho in five minutes", 1)[1]
    block = re.search(r"cat >> hrsync.toml <<'EOF'\n(.*?)\nEOF\n", trial, re.S)
    assert block is not None
    columns = tomllib.loads(block.group(1))["source"]["columns"]
    with (DOCS / "examples" / "employees.csv").open(encoding="utf-8", newline="") as f:
        headers = next(csv.reader(f))
    unmapped = [h for h in headers if h not in columns.values() and h not in CANONICAL_FIELDS]
    assert not unmapped
    assert "docs/examples/employees.csv" in trial and "--print-connection" in trial
