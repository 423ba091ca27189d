"""The benchmarks themselves run and report figures that hold together (small sizes, fast)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_module(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A bench script as a module; its shared harness is found as when run from bench/."""
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module(name)


def test_initial_sync_bench_reports_a_converged_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = bench_module("initial_sync", monkeypatch).run(600, tmp_path)
    assert result["converged"] is True and result["lock_periods"] == 0
    assert result["changes_failed"] == 0 and result["changes_applied"] == 600 + 18  # + groups
    assert result["calls"]["users.add"] >= 6  # 600 invitations, at most 100 per call
    assert result["lower_bound_minutes"] <= result["simulated_minutes"]
    # The run's CPU is hrsync's plus the emulator's, each measured.
    assert result["cpu_hrsync_seconds"] > 0 and result["cpu_emulator_seconds"] > 0
    split = result["cpu_hrsync_seconds"] + result["cpu_emulator_seconds"]
    assert abs(split - result["cpu_seconds"]) <= 0.011  # rounding
    assert result["peak_rss_mb"] > 0
    assert result["reference_cpu_seconds"] > 0  # the machine's speed, to compare figures by


def test_people_bench_lends_cliqs_waits_to_connect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = bench_module("initial_sync", monkeypatch).run(1200, tmp_path, "people")
    assert result["converged"] is True and result["lock_periods"] == 0
    assert result["changes_failed"] == 0
    # Connect's ~30 calls ride in the minutes users.add waits: no time of their own.
    assert result["calls"]["connect"] > 30
    assert result["simulated_minutes"] == result["lower_bound_minutes"] or (result["ratio"] < 1.05)


def test_roles_bench_gives_every_joiner_the_declared_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = bench_module("initial_sync", monkeypatch).run(600, tmp_path, "roles")
    assert result["converged"] is True and result["lock_periods"] == 0
    assert result["changes_failed"] == 0 and result["changes_applied"] == 600 + 18 + 1  # + role
    # The role goes to 100 users a call; its calls count in the lower bound.
    assert result["calls"]["roles.users"] >= 6
    assert result["fewest_calls"]["roles.users"] == 6
    assert result["lower_bound_minutes"] <= result["simulated_minutes"]


def test_steady_state_bench_reports_quiet_and_churning_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = bench_module("steady_state", monkeypatch).run(300, tmp_path)
    assert result["converged"] is True
    assert result["first_run_after_initial"]["cpu_seconds"] > 0
    quiet, churn = result["no_change"], result["one_percent"]
    for run in (result["first_run_after_initial"], quiet, churn):
        assert run["lock_periods"] == 0 and run["changes_failed"] == 0
        assert run["calls"] == sum(run["calls_by_endpoint"].values())
        assert run["lower_bound_minutes"] <= run["simulated_minutes"]
        assert run["cpu_hrsync_seconds"] > 0
    # Nothing changed in HR: only reads, and nothing to do.
    assert quiet["changes_applied"] == 0
    assert not {"users.add", "users.update"} & set(quiet["calls_by_endpoint"])
    # 300 people: 3 movers, and at least one leaver, rehire and email change.
    assert churn["hr_changes"] == {"movers": 3, "leavers": 1, "rehires": 1, "email_changes": 1}
    assert churn["changes_applied"] >= 6 and churn["calls"] > quiet["calls"]


def test_steady_state_bench_keeps_the_declared_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = bench_module("steady_state", monkeypatch).run(300, tmp_path, "roles")
    assert result["converged"] is True
    assert result["no_change"]["changes_applied"] == 0
    assert result["one_percent"]["changes_failed"] == 0


def test_scale_table_runs_each_case_in_its_own_process(monkeypatch: pytest.MonkeyPatch) -> None:
    scale = bench_module("scale", monkeypatch)
    cells = scale.row(scale.measure(200, "roles"))
    assert len(cells) == len(scale.COLUMNS)
    assert cells[1] == "roles" and cells[-1] == "yes"


def test_initial_sync_bench_with_the_emulator_in_its_own_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = bench_module("initial_sync", monkeypatch).run(300, tmp_path, "csv", "process")
    assert result["converged"] is True and result["lock_periods"] == 0
    assert result["changes_failed"] == 0 and result["changes_applied"] == 300 + 18  # + groups
    assert result["calls"]["users.add"] >= 3 and result["calls"]["users.list"] >= 1
    assert result["lower_bound_minutes"] <= result["simulated_minutes"]
    # hrsync's CPU and memory are the bench process's; the emulator's are its process's.
    assert result["cpu_hrsync_seconds"] > 0 and result["cpu_emulator_seconds"] >= 0
    assert result["peak_rss_mb"] > 0 and result["emulator_peak_rss_mb"] > 0


def test_the_emulator_process_stops_when_a_bench_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = bench_module("harness", monkeypatch)
    org = harness.EmulatedOrg(tmp_path, "csv", 10, "process")
    process = org.server.process
    with pytest.raises(RuntimeError, match="mid-run"), org:
        raise RuntimeError("mid-run")
    assert process.poll() is not None
    assert org.memory()["emulator_peak_rss_mb"] > 0


def test_scale_table_gives_the_emulator_process_its_own_memory_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scale = bench_module("scale", monkeypatch)
    result = {"employees": 10, "scenario": "csv", "calls_total": 3, "simulated_minutes": 0.0}
    result |= {"lower_bound_minutes": 0.0, "ratio": 1.0, "lock_periods": 0, "converged": True}
    result |= {"cpu_hrsync_seconds": 0.1, "cpu_emulator_seconds": 0.1, "peak_rss_mb": 90.0}
    result |= {"plan_cpu_hrsync_seconds": {"initial": 0.1, "full_read_in_step": 0.1}}
    result |= {"reference_cpu_seconds": 1.0, "emulator_peak_rss_mb": 80.0}
    columns = scale.columns("process")
    cells = scale.row(result)
    assert len(cells) == len(columns) and cells[columns.index(scale.EMULATOR_RSS)] == 80.0
    assert columns[columns.index(scale.EMULATOR_RSS) - 1] == "hrsync peak RSS MB"


def test_service_bench_floor_is_zohos_rolling_minute_of_updates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = bench_module("service", monkeypatch)
    # The burst: 60 events 0.5 s apart, 20 updates a rolling minute, 0.3 s each.
    landed = service.floor_times([n * 0.5 for n in range(60)], 0.3)
    assert landed[:20] == pytest.approx([n * 0.5 + 0.3 for n in range(20)])
    assert landed[20] == pytest.approx(60.3) and landed[-1] == pytest.approx(129.8)
    figures = service.percentiles([float(n) for n in range(1, 101)])
    assert figures == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0}
    calls = [[t, "PUT", "/api/v2/users/7", 200, "E1", "+1"] for t in (0.0, 30.0, 59.0, 61.0)]
    calls.append([1.0, "GET", "/api/v2/userfields", 200, "", ""])
    assert service.busiest_minutes(calls) == {"userfields": "1/10", "users.update": "3/20"}


def test_service_bench_clock_warps_the_emulator_and_hrsync_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = bench_module("service_world", monkeypatch)
    clock = world.WarpClock(-3600.0)
    before = clock.now()
    clock.advance(600.0)
    assert 599.0 < clock.now() - before < 601.0  # the wall clock goes on beneath
    with pytest.raises(ValueError):
        clock.advance(-1.0)


def test_scim_bench_pushes_patches_and_syncs_with_nothing_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = bench_module("scim", monkeypatch).run(tmp_path, users=40, patches=10, clients=4)
    push, patch, sync = result["push"], result["patch"], result["sync"]
    assert push["by_status"] == {"201": 40} and push["lost"] == 0
    assert push["store_rows"] == push["get_users_total"] == 40
    assert patch["by_status"] == {"204": 10} and patch["lost"] == 0
    assert sync["nobody_twice"] is True and sync["lock_periods"] == 0
    assert sync["invitation_calls"] >= sync["fewest_invitation_calls"] == 1
    assert sync["events_by_state"] == {"done": 50} and sync["floor_s"] == 0.0
