"""The benchmark itself runs and reports figures that hold together (small size, fast)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "initial_sync.py"


def test_initial_sync_bench_reports_a_converged_run(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("initial_sync", BENCH)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.run(600, tmp_path)
    assert result["converged"] is True and result["lock_periods"] == 0
    assert result["changes_failed"] == 0 and result["changes_applied"] == 600 + 18  # + groups
    assert result["calls"]["users.add"] >= 6  # 600 invitations, at most 100 per call
    assert result["lower_bound_minutes"] <= result["simulated_minutes"]


def test_people_bench_lends_cliqs_waits_to_connect(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("initial_sync", BENCH)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.run(1200, tmp_path, "people")
    assert result["converged"] is True and result["lock_periods"] == 0
    assert result["changes_failed"] == 0
    # Connect's ~30 calls ride in the minutes users.add waits: no time of their own.
    assert result["calls"]["connect"] > 30
    assert result["simulated_minutes"] == result["lower_bound_minutes"] or (result["ratio"] < 1.05)
