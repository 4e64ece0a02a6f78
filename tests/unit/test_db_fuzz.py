"""The database state machine (tests/dbfuzz.py), small and with a fixed seed, in every run."""

from __future__ import annotations

import dbfuzz


def test_any_database_contents_leave_get_list_kubelet_and_doctor_safe() -> None:
    with dbfuzz.isolated():
        dbfuzz.DatabaseMachine.TestCase.settings = dbfuzz.SMALL
        dbfuzz.DatabaseMachine.TestCase().runTest()
