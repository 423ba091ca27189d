"""Schemathesis drives the emulator server from Zoho's Cliq OpenAPI documents, in the default
configuration and under each variant: no answer of 500 or more, no request a handler failed
on, no throttled answer, and every other failing check one of the deliberate differences
docs/architecture/conformance.md lists. ``make fuzz`` runs the same harness
(``tests/fuzz_emulator.py``) longer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import fuzz_personio
from tests.fuzz_bamboohr import DOCUMENT, run_bamboohr
from tests.fuzz_emulator import (
    HIBOB_SPEC,
    SEED,
    SPECS,
    Harness,
    configurations,
    run_configuration,
    run_hibob,
    served_emulator,
)
from tests.fuzz_findings import unexplained

pytestmark = pytest.mark.e2e
EXAMPLES = 3  # a short run: the whole module in well under a minute


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    if not SPECS.is_dir():
        pytest.skip(f"Zoho's Cliq OpenAPI documents are not at {SPECS}")
    log: Path = tmp_path_factory.mktemp("fuzz") / "emulator.log"
    with served_emulator(log) as base, httpx.Client(timeout=30) as http:
        yield Harness(base, http)


@pytest.mark.parametrize(
    ("name", "variants"), configurations(), ids=[name for name, _ in configurations()]
)
def test_the_fuzzer_finds_no_server_error(harness: Harness, name: str, variants: list[str]) -> None:
    # The coverage phase's boundary and wrong-type values once, in the default configuration.
    phases = ("examples", "coverage", "fuzzing") if name == "default" else ("examples", "fuzzing")
    tally = run_configuration(
        harness, name, variants, max_examples=EXAMPLES, phases=phases, seed=SEED
    )
    assert tally.requests > 0
    assert tally.server_errors == []
    assert tally.unexpected == 0, "an emulator handler failed on a request (see the log)"
    assert tally.throttled == 0, "the pacing let a rate limit answer"
    assert tally.errors == []
    assert unexplained(tally) == []


def test_the_fuzzer_finds_no_server_error_in_bamboohr(harness: Harness) -> None:
    """BambooHR's own document against the emulator's BambooHR (tests/fuzz_bamboohr.py)."""
    if not DOCUMENT.is_file():
        pytest.skip(f"BambooHR's OpenAPI document is not at {DOCUMENT}")
    phases = ("examples", "coverage", "fuzzing")
    tally = run_bamboohr(harness, max_examples=EXAMPLES, phases=phases, seed=SEED)
    assert tally.requests > 0
    assert tally.server_errors == []
    assert tally.unexpected == 0, "an emulator handler failed on a request (see the log)"
    assert tally.throttled == 0
    assert tally.errors == []
    assert unexplained(tally) == []


def test_a_path_ending_in_an_encoded_newline_reaches_the_emulator_as_sent(
    harness: Harness,
) -> None:
    """A finding of the fuzzer: Starlette's URL drops a decoded newline, so
    ``GET /profiles/%0A`` was answered as ``GET /profiles`` (the listing, 200)."""
    harness.configure([])
    auth = {"Authorization": f"Zoho-oauthtoken {harness.token()}"}
    answer = harness.http.get(f"{harness.base}/api/v2/profiles/%0A", headers=auth)
    assert answer.status_code == 404


def test_the_fuzzer_finds_no_server_error_in_hibob(harness: Harness) -> None:
    """HiBob's own document, restricted to the operations the emulator serves, with its
    ready-made service user: no 5xx, no handler failure, no engine error."""
    if not HIBOB_SPEC.is_file():
        pytest.skip(f"HiBob's OpenAPI document is not at {HIBOB_SPEC}")
    phases = ("examples", "coverage", "fuzzing")
    tally = run_hibob(harness, max_examples=EXAMPLES, phases=phases, seed=SEED)
    assert tally.requests > 0
    assert tally.server_errors == []
    assert tally.unexpected == 0, "an emulator handler failed on a request (see the log)"
    assert tally.throttled == 0
    assert tally.errors == []


@pytest.mark.parametrize(
    ("name", "variants"),
    fuzz_personio.configurations(),
    ids=[name for name, _ in fuzz_personio.configurations()],
)
def test_the_fuzzer_finds_no_server_error_in_personio(
    harness: Harness, name: str, variants: list[str]
) -> None:
    """Personio's employee reads, from Personio's personnel-data document."""
    if not fuzz_personio.SPEC.is_file():
        pytest.skip(f"Personio's personnel-data document is not at {fuzz_personio.SPEC}")
    phases = ("examples", "coverage", "fuzzing") if name == "personio" else ("examples", "fuzzing")
    tally = fuzz_personio.run_configuration(
        harness, name, variants, max_examples=EXAMPLES, phases=phases, seed=SEED
    )
    assert tally.requests > 0
    assert tally.server_errors == []
    assert tally.unexpected == 0, "an emulator handler failed on a request (see the log)"
    assert tally.throttled == 0, "the pacing let a rate limit answer"
    assert tally.errors == []
    assert fuzz_personio.unexplained(tally) == []
