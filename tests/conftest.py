"""Suite-wide: pytest puts this folder on sys.path, so shared test modules import by name.

Hypothesis runs with a fixed seed by default (profile "fixed", `derandomize`): a property test
then checks the same examples on every run and can never fail by chance. `HYPOTHESIS_PROFILE=random`
(or `--hypothesis-profile=random`) explores new examples; `.ci/run` does that once per run with a
printed `--hypothesis-seed`, reporting a failure without failing CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from postgres import Cluster

# No deadline and no too-slow health check: both time examples, and on a shared machine a slow
# moment would fail a test that found nothing wrong. No example database either: a run depends
# on its seed alone, and reading never writes (not even .hypothesis/ in the checkout).
_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow],
    "database": None,
    "print_blob": True,
}
settings.register_profile("fixed", derandomize=True, **_COMMON)
settings.register_profile("random", derandomize=False, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--long``: the fault-injection suite (tests/faults) kills each writer 2000 times."""
    parser.addoption("--long", action="store_true", help="tests/faults: 2000 kills per writer")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One private PostgreSQL server for the whole run (skipped without PostgreSQL, CI fails)."""
    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def pg_uri(pg_cluster: Cluster) -> str:
    """A fresh empty PostgreSQL database for one test, as a libpq URI without a password."""
    return pg_cluster.new_database()
