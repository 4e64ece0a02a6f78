"""registry move-secrets: passwords move between the Password column and an in-memory keyring."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from keyringcontract import (
    ForgetfulKeyring,
    LockedKeyring,
    MemoryKeyring,
    UndeletableKeyring,
    path_of,
)
from readystack.helper.lookup import actions, resolver
from readystack.helper.manage import admin
from readystack.store import registries, secrets
from readystack.store.verberrors import AdminError

KEYRING = Callable[[type], None]
RsgDb = Any  # tests/unit/conftest.py's RsgDb, reached through fixtures


def move(environ: dict[str, str], *args: str) -> int:
    return admin.main(["registry", "move-secrets", *args], environ)


def columns(environ: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    """Row name -> (Password column, SecretStore of the side table)."""
    conn = sqlite3.connect(environ["READYSTACK_DB"])
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        side = "ReadyStackHelper" in tables
        query = (
            'SELECT r."Name", r."Password", h."SecretStore" FROM "Registries" r '
            'LEFT JOIN "ReadyStackHelper" h ON h."RegistryId" = r."Id"'
            if side
            else 'SELECT "Name", "Password", NULL FROM "Registries"'
        )
        return {name: (pw, store) for name, pw, store in conn.execute(query)}
    finally:
        conn.close()


def answer(environ: dict[str, str], host: str) -> dict[str, str]:
    return json.loads(actions.get(host.encode(), environ))


@pytest.fixture
def two_rows(rsg: RsgDb) -> dict[str, str]:
    return {
        "ghcr": rsg.add("ghcr", "https://ghcr.io", "alice", "pw-ghcr"),
        "quay": rsg.add("quay", "https://quay.io", "bob", "pw-quay"),
    }


def test_move_to_keyring_empties_the_column_and_get_still_answers(
    environ: dict[str, str], two_rows: dict[str, str], use_keyring: KEYRING
) -> None:
    use_keyring(MemoryKeyring)
    assert move(environ, "--to", "keyring") == 0
    label = secrets.KEYRING_PREFIX + path_of(MemoryKeyring)
    assert columns(environ) == {"ghcr": (None, label), "quay": (None, label)}
    assert MemoryKeyring.store[secrets.SERVICE, two_rows["ghcr"] + "@ghcr.io"] == "pw-ghcr"
    assert answer(environ, "ghcr.io")["Secret"] == "pw-ghcr"


def test_move_back_to_database_restores_the_column_and_deletes_the_entry(
    environ: dict[str, str], two_rows: dict[str, str], use_keyring: KEYRING
) -> None:
    use_keyring(MemoryKeyring)
    move(environ, "--to", "keyring")
    assert move(environ, "--to", "database") == 0
    assert columns(environ) == {"ghcr": ("pw-ghcr", "database"), "quay": ("pw-quay", "database")}
    assert MemoryKeyring.store == {}
    assert answer(environ, "quay.io")["Secret"] == "pw-quay"


def test_moving_twice_moves_nothing_the_second_time(
    environ: dict[str, str],
    two_rows: dict[str, str],
    use_keyring: KEYRING,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_keyring(MemoryKeyring)
    move(environ, "--to", "keyring")
    capsys.readouterr()
    move(environ, "--to", "keyring")
    assert capsys.readouterr().out == "moved 0 secret(s) to the keyring\n"


def test_only_the_named_rows_move(
    environ: dict[str, str], two_rows: dict[str, str], use_keyring: KEYRING
) -> None:
    use_keyring(MemoryKeyring)
    move(environ, "QUAY", "--to", "keyring")
    assert columns(environ)["ghcr"] == ("pw-ghcr", None)
    assert columns(environ)["quay"][0] is None


def test_an_unknown_row_name_moves_nothing(
    environ: dict[str, str], two_rows: dict[str, str], use_keyring: KEYRING
) -> None:
    use_keyring(MemoryKeyring)
    with pytest.raises(AdminError, match="no registry named 'nope'"):
        move(environ, "ghcr", "nope", "--to", "keyring")
    assert MemoryKeyring.store == {}
    assert columns(environ)["ghcr"] == ("pw-ghcr", None)


def test_a_readystackgo_database_is_refused_without_force(
    environ: dict[str, str], make_rsg: Any, use_keyring: KEYRING
) -> None:
    use_keyring(MemoryKeyring)
    db = make_rsg(Path(environ["READYSTACK_DB"]), readystackgo=True)
    db.add("ghcr", "https://ghcr.io", "alice", "pw-ghcr")
    with pytest.raises(AdminError, match="ReadyStackGo itself would no longer find"):
        move(environ, "--to", "keyring")
    assert MemoryKeyring.store == {}
    assert move(environ, "--to", "keyring", "--force") == 0
    assert columns(environ)["ghcr"][0] is None


def test_a_keyring_that_keeps_nothing_leaves_the_password_in_the_database(
    environ: dict[str, str], two_rows: dict[str, str], use_keyring: KEYRING
) -> None:
    use_keyring(ForgetfulKeyring)
    with pytest.raises(AdminError, match="did not keep the secret; its password stays"):
        move(environ, "ghcr", "--to", "keyring")
    assert columns(environ)["ghcr"] == ("pw-ghcr", None)


def test_a_locked_keyring_is_reported_without_the_secret(
    environ: dict[str, str], two_rows: dict[str, str], use_keyring: KEYRING
) -> None:
    use_keyring(LockedKeyring)
    with pytest.raises(AdminError) as caught:
        move(environ, "ghcr", "--to", "keyring")
    assert str(caught.value).startswith("'ghcr': the Secret Service's default collection is locked")
    assert "KeyringLocked" not in str(caught.value) and "pw-ghcr" not in str(caught.value)
    assert columns(environ)["ghcr"] == ("pw-ghcr", None)


def test_a_missing_keyring_entry_is_not_moved_back(
    environ: dict[str, str], two_rows: dict[str, str], use_keyring: KEYRING
) -> None:
    use_keyring(MemoryKeyring)
    move(environ, "ghcr", "--to", "keyring")
    MemoryKeyring.store.clear()
    with pytest.raises(AdminError, match="its keyring entry is missing; nothing to move"):
        move(environ, "--to", "database")
    assert columns(environ)["ghcr"][0] is None


def test_an_entry_that_cannot_be_deleted_is_moved_with_a_warning(
    environ: dict[str, str],
    two_rows: dict[str, str],
    use_keyring: KEYRING,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_keyring(UndeletableKeyring)
    move(environ, "ghcr", "--to", "keyring")
    capsys.readouterr()
    assert move(environ, "--to", "database") == 0
    assert columns(environ)["ghcr"] == ("pw-ghcr", "database")
    err = capsys.readouterr().err
    assert "ghcr: moved, but the old keyring entry stays" in err and "pw-ghcr" not in err


def test_a_row_without_a_host_reads_back_the_entry_move_secrets_wrote(
    rsg: RsgDb, environ: dict[str, str], use_keyring: KEYRING
) -> None:
    use_keyring(MemoryKeyring)
    rsg.add("odd", "not a server", "alice", "pw-odd")
    assert move(environ, "--to", "keyring") == 0
    db = registries.open_read(environ["READYSTACK_DB"])
    assert db is not None
    try:
        row = db.row_by_name("odd")
    finally:
        db.close()
    assert row is not None and row.host is None and row.in_keyring
    assert resolver.secret_of(row) == "pw-odd"
