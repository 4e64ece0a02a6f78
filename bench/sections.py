"""The sections run after the `get` cases, each with its own module: summary rows and raw data.

Each section's ``measure`` result is kept on report.Results under its name (run.py sets it);
its module's ``add_rows(result, add, verdict)`` gives its summary rows. A new section is one
entry here, so that report.py stays the same size.
"""

from __future__ import annotations

from collections.abc import Callable

from . import fleet, keyringget, peerget

SECTIONS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("fleet", fleet.add_rows),
    ("keyring", keyringget.add_rows),
    ("peer", peerget.add_rows),
)


def add_rows(results: object, add: Callable[..., None], verdict: Callable[..., str]) -> None:
    """Every section's summary rows, in order."""
    for name, rows in SECTIONS:
        rows(getattr(results, name, None), add, verdict)


def raw(results: object) -> dict:
    """Every section's result, by name, for results.json (None when it did not run)."""
    return {name: getattr(results, name, None) for name, _ in SECTIONS}
