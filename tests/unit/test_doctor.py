"""doctor's keyring checks: which store is wanted, whether the backend works, each row's entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from keyringcontract import LockedKeyring, MemoryKeyring, path_of
from readystack.helper.manage import admin
from readystack.store import secrets

KEYRING = Callable[[type], None]
RsgDb = Any  # tests/unit/conftest.py's RsgDb, reached through fixtures
REFUSED = "keyring.backends.fail.Keyring"


def doctor(environ: dict[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = admin.main(["doctor"], environ)
    return code, capsys.readouterr().out.splitlines()


def keyring_row(rsg: RsgDb, backend: type) -> str:
    """A row whose secret lives in ``backend`` (Password NULL, side table naming the backend)."""
    label = secrets.KEYRING_PREFIX + path_of(backend)
    return rsg.add("ghcr", "https://ghcr.io", "alice", None, secret_store=label)


def test_a_working_keyring_is_reported_ok_while_secrets_stay_in_the_database(
    environ: dict[str, str], rsg: RsgDb, use_keyring: KEYRING, capsys: pytest.CaptureFixture
) -> None:
    use_keyring(MemoryKeyring)
    _, lines = doctor(environ, capsys)
    assert "info     secrets are kept in the database (READYSTACK_SECRETS=database)" in lines
    assert f"ok       keyring backend {path_of(MemoryKeyring)} is ready for writes" in lines


def test_no_usable_keyring_is_only_information_when_no_secret_needs_one(
    environ: dict[str, str],
    rsg: RsgDb,
    use_keyring: KEYRING,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    use_keyring(MemoryKeyring)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", REFUSED)
    _, lines = doctor(environ, capsys)
    assert [line for line in lines if "cannot keep secrets safely" in line][0].startswith("info")
    assert not [line for line in lines if "keyring backend" in line and line.startswith("PROBLEM")]


def test_no_usable_keyring_is_a_problem_when_new_secrets_go_to_the_keyring(
    environ: dict[str, str],
    rsg: RsgDb,
    use_keyring: KEYRING,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    use_keyring(MemoryKeyring)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", REFUSED)
    code, lines = doctor({**environ, "READYSTACK_SECRETS": "keyring"}, capsys)
    assert code == 1
    assert [line for line in lines if "cannot keep secrets safely" in line][0].startswith("PROBLEM")


def test_an_unknown_secret_store_is_a_problem(
    environ: dict[str, str], rsg: RsgDb, use_keyring: KEYRING, capsys: pytest.CaptureFixture
) -> None:
    use_keyring(MemoryKeyring)
    code, lines = doctor({**environ, "READYSTACK_SECRETS": "vault"}, capsys)
    assert code == 1
    wanted = "PROBLEM  READYSTACK_SECRETS says secrets = 'vault'; use 'database' or 'keyring'"
    assert wanted in lines


def test_a_row_whose_entry_is_in_the_keyring_is_no_problem(
    environ: dict[str, str], rsg: RsgDb, use_keyring: KEYRING, capsys: pytest.CaptureFixture
) -> None:
    use_keyring(MemoryKeyring)
    row_id = keyring_row(rsg, MemoryKeyring)
    MemoryKeyring.store[secrets.SERVICE, f"{row_id}@ghcr.io"] = "s3cret"  # bound to its host
    _, lines = doctor(environ, capsys)
    assert not [line for line in lines if "'ghcr'" in line and line.startswith("PROBLEM")]


def test_an_entry_not_bound_to_a_host_is_a_problem_with_the_way_out(
    environ: dict[str, str], rsg: RsgDb, use_keyring: KEYRING, capsys: pytest.CaptureFixture
) -> None:
    use_keyring(MemoryKeyring)
    row_id = keyring_row(rsg, MemoryKeyring)
    MemoryKeyring.store[secrets.SERVICE, row_id] = "s3cret"  # as an earlier version wrote it
    code, lines = doctor(environ, capsys)
    assert code == 1
    assert (
        "PROBLEM  row 'ghcr': its keyring entry is not bound to ghcr.io; run "
        "`registry move-secrets --to keyring` to bind it"
    ) in lines
    assert "info     secrets are kept in the database (READYSTACK_SECRETS=database)" not in lines


def test_a_row_whose_keyring_entry_is_missing_is_a_problem(
    environ: dict[str, str], rsg: RsgDb, use_keyring: KEYRING, capsys: pytest.CaptureFixture
) -> None:
    use_keyring(MemoryKeyring)
    keyring_row(rsg, MemoryKeyring)
    code, lines = doctor(environ, capsys)
    assert code == 1
    assert "PROBLEM  row 'ghcr': its keyring entry is missing; it never answers" in lines


def test_a_row_whose_keyring_cannot_be_read_is_a_problem_without_its_secret(
    environ: dict[str, str], rsg: RsgDb, use_keyring: KEYRING, capsys: pytest.CaptureFixture
) -> None:
    use_keyring(MemoryKeyring)
    keyring_row(rsg, LockedKeyring)
    code, lines = doctor(environ, capsys)
    assert code == 1
    problem = [line for line in lines if line.startswith("PROBLEM  row 'ghcr': ")]
    assert problem == [
        "PROBLEM  row 'ghcr': the keyring is locked; the secret is only in that "
        "keyring: run this where its Secret Service answers (the D-Bus session of "
        "the user who stored it)"
    ]


def test_a_keyring_row_without_a_username_lacks_only_the_username(
    environ: dict[str, str], rsg: RsgDb, use_keyring: KEYRING, capsys: pytest.CaptureFixture
) -> None:
    use_keyring(MemoryKeyring)
    label = secrets.KEYRING_PREFIX + path_of(MemoryKeyring)
    row_id = rsg.add("ghcr", "https://ghcr.io", None, None, secret_store=label)
    MemoryKeyring.store[secrets.SERVICE, f"{row_id}@ghcr.io"] = "s3cret"
    code, lines = doctor(environ, capsys)
    assert code == 1
    assert [line for line in lines if "never answers" in line] == [
        "PROBLEM  row 'ghcr': no username, so it never answers; set it with "
        "`docker-credential-readystack registry update ghcr --username U --password-stdin`, "
        "or remove it"
    ]
