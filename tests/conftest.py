"""Suite-wide: pytest puts this folder on sys.path, so shared test modules import by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from postgres import Cluster


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
