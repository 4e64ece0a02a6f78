"""registry move-secrets: move passwords between the Password column and the OS keyring."""

from __future__ import annotations

import argparse
import sys

from readystack.store import registries, secrets, writes
from readystack.store.conventions import DATABASE, KEYRING, NAME
from readystack.store.errors import SecretStoreError
from readystack.store.faultpoint import reached
from readystack.store.verberrors import AdminError

from .adminlib import keyring_advice, missing_row, open_write


def run(ns: argparse.Namespace) -> int:
    """Move each selected row, one at a time: write the new place, verify it, clear the old."""
    db = open_write(ns)
    try:
        if ns.to == KEYRING and db.is_readystackgo and not ns.force:
            raise AdminError(
                "refusing to move secrets out of a ReadyStackGo database: ReadyStackGo itself "
                "would no longer find those passwords (use --force if that is what you want)"
            )
        rows = db.all_rows()
        if ns.names:
            wanted = {n.lower() for n in ns.names}
            missing = [n for n in ns.names if n.lower() not in {r.name.lower() for r in rows}]
            if missing:
                names = [r.name for r in rows]
                raise AdminError(missing_row(missing[0], names))
            rows = [r for r in rows if r.name.lower() in wanted]
        backend = None
        if ns.to == KEYRING:
            try:
                backend = secrets.write_backend()
            except SecretStoreError as exc:
                # --to keyring asked for the keyring: "use the database" is no fix for that.
                raise AdminError(keyring_advice(exc, "")) from None
        moved = 0
        for row in rows:
            if ns.to == KEYRING:
                moved += _to_keyring(db, row, backend)
            else:
                moved += _to_database(db, row)
    finally:
        db.close()
    print(f"moved {moved} secret(s) to the {ns.to}")
    return 0


def _to_keyring(db: registries.Registries, row: registries.Row, backend: object) -> int:
    if row.in_keyring:
        return _bind(row)
    if row.password is None:
        return 0
    try:
        label = secrets.put(backend, row.id, row.host or "", row.password)  # read back too
    except SecretStoreError as exc:
        why = keyring_advice(exc, "")
        raise AdminError(f"{row.name!r}: {why}; its password stays in the database") from None
    reached("after-new-secret")
    with writes.transaction(db):
        current = writes.password_of(db, row.id)
        if current is None or current[0] != row.password:
            raise AdminError(f"{row.name!r} changed while moving; run move-secrets again")
        writes.update_row(db, row.id, Password=None)
        writes.record_side(db, row.id, row.origin, label)
    print(f"{row.name}: password moved to {label}")
    return 1


def _bind(row: registries.Row) -> int:
    """Bind an entry written before entries carried their host: the migration of issue 13.

    An administrator's explicit act, because the host comes from the row as it is now; a lookup
    never binds (nor writes to the keyring at all).
    """
    try:
        changed = secrets.rebind(row.secret_store, row.id, row.host or "", row.host or "")
    except SecretStoreError as exc:
        raise AdminError(f"{row.name!r}: {exc}") from None
    if changed:
        print(f"{row.name}: keyring entry bound to {row.host}")
    return int(changed)


def _to_database(db: registries.Registries, row: registries.Row) -> int:
    if not row.in_keyring:
        return 0
    try:
        secret, _ = secrets.get(row.secret_store, row.id, row.host or "")
    except SecretStoreError as exc:
        raise AdminError(f"{row.name!r}: {exc}") from None
    if secret is None:
        raise AdminError(f"{row.name!r}: its keyring entry is missing; nothing to move")
    with writes.transaction(db):
        writes.update_row(db, row.id, Password=secret)
        writes.record_side(db, row.id, row.origin, DATABASE)
    reached("after-new-secret")
    try:
        secrets.delete(row.secret_store, row.id, row.host or "")
    except SecretStoreError as exc:
        sys.stderr.write(f"{NAME}: {row.name}: moved, but the old keyring entry stays: {exc}\n")
    print(f"{row.name}: password moved to the database")
    return 1
