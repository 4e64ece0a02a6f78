"""The fault points act only for the fault tests: never without pytest, never in the binary."""

from __future__ import annotations

import signal
import sys

import pytest
from readystack.store import faultpoint


@pytest.fixture
def signals(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sent: list[int] = []
    monkeypatch.setattr(faultpoint.os, "kill", lambda _pid, sig: sent.append(sig))
    return sent


def test_a_named_point_kills_or_stops_only_when_asked(
    monkeypatch: pytest.MonkeyPatch, signals: list[int]
) -> None:
    faultpoint.reached("before-commit")  # nothing armed
    monkeypatch.setenv(faultpoint.VARIABLE, "before-commit")
    faultpoint.reached("after-begin")  # another point
    faultpoint.reached("before-commit")
    monkeypatch.setenv(faultpoint.VARIABLE, "mid-copy:stop")
    faultpoint.reached("mid-copy")
    assert signals == [signal.SIGKILL, signal.SIGSTOP]


def test_outside_pytest_or_in_the_binary_nothing_happens(
    monkeypatch: pytest.MonkeyPatch, signals: list[int]
) -> None:
    monkeypatch.setenv(faultpoint.VARIABLE, "before-commit")
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    faultpoint.reached("before-commit")
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "x")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    faultpoint.reached("before-commit")
    assert signals == []


def test_every_point_named_in_the_code_is_listed() -> None:
    import pathlib
    import re

    root = pathlib.Path(faultpoint.__file__).resolve().parents[1]
    used = set()
    for folder in ("store", "helper"):
        for path in (root / folder).rglob("*.py"):
            used |= set(re.findall(r'(?:reached|_point)\("([a-z-]+)"\)', path.read_text()))
    assert used == set(faultpoint.POINTS)
