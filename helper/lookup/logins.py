"""The protocol's write verbs, store and erase: `docker login` and `docker logout`."""

from __future__ import annotations

import os

from readystack.store import errors, hosts, paths, registries, settings
from readystack.store.conventions import DATABASE, KEYRING, LOGIN
from readystack.store.diag import debug, warn

from . import protocol
from . import target as targets

TYPE_CHECKING = False  # collections.abc serves annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping


def readonly(environ: Mapping[str, str]) -> bool:
    """READYSTACK_READONLY (or ``readonly`` in the config file): store/erase write nothing."""
    return settings.enabled(environ, "readonly", False)


def refusal(path: str) -> str:
    """What store/erase say on a ReadyStackGo database."""
    return (
        f"{protocol.NAME}: {path} is a ReadyStackGo database; docker login/logout do not change "
        "it. Manage its registries in ReadyStackGo's Settings page, or set READYSTACK_READONLY=1 "
        "so that login/logout succeed without storing anything"
    )


def _login_target(server: str) -> targets.Target:
    try:
        target = targets.parse(server)
    except errors.TargetError as exc:
        raise errors.HelperError(f"{protocol.NAME}: invalid server URL: {exc}") from None
    if target.kind == targets.REPOSITORY:
        raise errors.HelperError(
            f"{protocol.NAME}: logins are kept per registry server, not per repository; "
            f"log in to {target.host} instead"
        )
    return target


def store(data: bytes, environ: Mapping[str, str]) -> str:
    """``store``: keep a `docker login` as a login row (never touching an administrator's rows)."""
    from readystack.store import secrets, writes

    server, username, secret = protocol.parse_store(data)
    target = _login_target(server)
    if readonly(environ):
        debug(f"store: READYSTACK_READONLY is set; not storing {target.describe()}")
        return ""
    db_path, _ = paths.database_path(environ)
    try:
        wanted = secrets.wanted_store(environ)
        backend = secrets.write_backend() if wanted == KEYRING else None
        # A login that waited for `sync`'s lock finds the file replaced: it is kept in the new one.
        return writes.retry_replaced(
            db_path, "store", lambda: _store(db_path, target, server, username, secret, backend)
        )
    except (errors.SecretStoreError, errors.DatabaseError) as exc:
        raise errors.HelperError(f"{protocol.NAME}: {exc}") from None


def _store(
    db_path: str,
    target: targets.Target,
    server: str,
    username: str,
    secret: str,
    backend: object | None,
) -> str:
    from readystack.store import secrets, writes

    db = writes.open_write(db_path)
    stale_label = ""
    try:
        if db.is_readystackgo:
            raise errors.HelperError(refusal(db_path))
        writes.warn_if_readable(db_path)
        with writes.transaction(db):
            existing = _login_rows(db, target)
            row_id = existing[0].id if existing else writes.new_id()
            label = DATABASE
            password: str | None = secret
            if backend is not None:
                label = secrets.put(backend, row_id, target.host, secret)
                password = None
            if existing:
                row = existing[0]
                writes.update_row(db, row.id, Username=username, Password=password)
                writes.record_side(db, row.id, LOGIN, label)
                if row.in_keyring and row.secret_store != label:
                    stale_label = row.secret_store
            else:
                organization = writes.write_organization(db)
                name = target.raw if target.kind == targets.OAUTH else _login_host(target)
                writes.insert_row(
                    db,
                    name=writes.unique_name(db, organization, name),
                    url=_login_url(target, server),
                    username=username,
                    password=password,
                    patterns_json="[]",
                    is_default=False,
                    origin=LOGIN,
                    secret_store=label,
                    row_id=row_id,
                )
    finally:
        db.close()
    if stale_label:
        secrets.forget(stale_label, row_id, target.host)
    debug(f"store: kept a login for {target.describe()} as user {username!r} ({label})")
    return ""


def _login_host(target: targets.Target) -> str:
    # A server target's raw text parsed once already, so this cannot fail.
    return hosts.login_host(target.raw)


def _login_rows(db: registries.Registries, target: targets.Target) -> list[registries.Row]:
    """The login rows kept under the name ``target`` was typed as (DESIGN: store / erase)."""
    if target.kind == targets.OAUTH:
        row = db.row_for_key(target.raw)
        return [row] if row else []
    wanted = _login_host(target)  # a str, so rows that are no login (login_host None) never match
    rows = [r for r in db.rows_for_host(target.host) if r.login_host == wanted]
    return sorted(rows, key=lambda r: (r.name.casefold(), r.id))


def _login_url(target: targets.Target, server: str) -> str:
    if target.kind == targets.OAUTH:
        return target.raw
    host = _login_host(target)
    if hosts.is_hub(host):
        return hosts.HUB_SERVER_URL
    scheme = "http" if server.lower().startswith("http://") else "https"
    return f"{scheme}://{host}"


def erase(data: bytes, environ: Mapping[str, str]) -> str:
    """``erase``: delete the login rows for a server; erasing nothing succeeds."""
    server = protocol.server_text(data)
    try:
        target = targets.parse(server)
    except errors.TargetError:
        debug(f"erase: {server!r} names no server, so nothing is stored under it")
        return ""
    if target.kind == targets.REPOSITORY or readonly(environ):
        debug(f"erase: nothing to erase for {target.describe()}")
        return ""
    db_path, _ = paths.database_path(environ)
    if not os.path.exists(db_path):
        return ""  # nothing was ever stored; never create a database just to erase from it
    from readystack.store import writes  # only a write loads the writing half

    try:
        logins, others = writes.retry_replaced(db_path, "erase", lambda: _erase(db_path, target))
        return _erased(target, logins, others)
    except errors.DatabaseError as exc:
        raise errors.HelperError(f"{protocol.NAME}: {exc}") from None


def _erase(db_path: str, target: targets.Target) -> tuple[list[registries.Row], list[str]]:
    from readystack.store import writes

    # Erasing writes no secret: a database another user owns may lose a login (store refuses it).
    db = writes.open_write(db_path, foreign_ok=True)
    try:
        if db.is_readystackgo:
            raise errors.HelperError(refusal(db_path))
        with writes.transaction(db):
            logins = _login_rows(db, target)
            for row in logins:
                writes.delete_row(db, row.id)
            others = (
                []
                if target.kind == targets.OAUTH
                else [r.name for r in db.rows_for_host(target.host) if not r.is_login]
            )
    finally:
        db.close()
    return logins, others


def _erased(target: targets.Target, logins: list[registries.Row], others: list[str]) -> str:
    if any(row.in_keyring for row in logins):
        from readystack.store import secrets

        for row in logins:
            if row.in_keyring:
                secrets.forget(row.secret_store, row.id, row.host or "")
    # The docker CLI erases up to four keys per logout: the first erases, the others find
    # nothing and stay silent, so one logout says this once.
    if not logins:
        debug(f"erase: no login stored for {target.describe()}")
    elif others:
        names = ", ".join(repr(n) for n in others)
        warn(
            f"erased the login for {_login_host(target)}; administrator rows still answer "
            f"for {target.host}: {names}"
        )
    return ""
