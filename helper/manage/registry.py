"""The registry verbs: add, list, show, update, remove and set-default rows of the table."""

from __future__ import annotations

import argparse
import json
import sys

from readystack.store import dockerconfig, hosts, paths, registries, schema, secrets, writes
from readystack.store.conventions import ADMIN, DATABASE, KEYRING, NAME, SELF
from readystack.store.diag import mask, printable
from readystack.store.errors import HostError, PatternError, SecretStoreError
from readystack.store.verberrors import ConfigError

from ..lookup import protocol
from ..lookup.patterns import MAX_PATTERNS, compile_pattern
from .adminlib import (
    AdminError,
    all_rows,
    db_path,
    find,
    keyring_advice,
    missing_credentials,
    open_read,
    read_secret,
    writing,
)

# ReadyStackGo's own maximums: a longer cell would be skipped by every lookup.
MAX_NAME, MAX_URL, MAX_USERNAME, MAX_PASSWORD, MAX_PATTERNS_TEXT = (
    schema.max_len(n) for n in ("Name", "Url", "Username", "Password", "ImagePatterns")
)


def _check_url(url: str) -> tuple[str, str]:
    typed = url.strip()
    url = typed if "://" in typed else "https://" + typed
    authority = url.split("://", 1)[1].split("/", 1)[0]
    if "@" in authority:
        raise AdminError("the URL carries user information; use --username and --password-stdin")
    try:
        host = hosts.host_of_url(url)
    except HostError as exc:
        # Name the URL as typed: the https:// added above is ours, not the user's.
        shown = typed if len(typed) <= 100 else typed[:60] + "…"
        raise AdminError(f"invalid registry URL {shown!r}: {exc}") from None
    if len(url) > MAX_URL:
        raise AdminError(f"the URL is longer than {MAX_URL} characters")
    if url in hosts.OAUTH_KEYS:
        raise AdminError("that URL is one of Docker Hub's OAuth keys, not a registry")
    return url, host


def _check_patterns(patterns: list[str], host: str) -> list[str]:
    if len(patterns) > MAX_PATTERNS:
        raise AdminError(f"refused: a row has at most {MAX_PATTERNS} patterns")
    for text in patterns:
        try:
            compile_pattern(text, host)
        except PatternError as exc:
            raise AdminError(f"refused: {exc}") from None
    # A longer ImagePatterns cell would make every lookup skip the row.
    if len(json.dumps(patterns)) > MAX_PATTERNS_TEXT:
        raise AdminError(
            f"refused: the patterns take more than {MAX_PATTERNS_TEXT} characters as JSON, "
            "ReadyStackGo's maximum"
        )
    return patterns


def _read_password(ns: argparse.Namespace) -> str | None:
    if not ns.password_stdin:
        return None
    data = read_secret(protocol.MAX_INPUT + 1, "the password")
    if len(data) > protocol.MAX_INPUT:
        raise AdminError("the password on stdin is too large")
    try:
        text = data.decode("utf-8", "strict")
    except UnicodeDecodeError:
        raise AdminError("the password on stdin is not UTF-8 text") from None
    if text.endswith("\n"):
        text = text[:-1]
    if text.endswith("\r"):
        text = text[:-1]
    if len(text) > MAX_PASSWORD:
        raise AdminError(f"the password is longer than {MAX_PASSWORD} characters")
    return text


def _secret_store(ns: argparse.Namespace) -> str:
    if ns.secret_store:
        return ns.secret_store
    try:
        return secrets.wanted_store(ns.environ)
    except SecretStoreError as exc:
        raise AdminError(str(exc)) from None


def _put_secret(
    ns: argparse.Namespace, store: str, row_id: str, host: str, password: str | None
) -> tuple[str | None, str]:
    """(Password column value, SecretStore label) for a new password, bound to ``host``."""
    if store != KEYRING or password is None:
        return password, DATABASE
    try:
        label = secrets.put(secrets.write_backend(), row_id, host, password)
    except SecretStoreError as exc:
        if ns.secret_store != KEYRING:
            raise AdminError(str(exc)) from None  # READYSTACK_SECRETS chose it: that is the fix
        raise AdminError(keyring_advice(exc, " or use --secret-store database")) from None
    return None, label


def _rebind(row: registries.Row, host: str) -> None:
    try:
        secrets.rebind(row.secret_store, row.id, row.host or "", host)
    except SecretStoreError as exc:
        raise AdminError(f"{row.name!r}: cannot move its keyring entry to {host}: {exc}") from None


def add(ns: argparse.Namespace) -> int:
    """registry add."""
    name = ns.name.strip()
    if not name or len(name) > MAX_NAME:
        raise AdminError(f"a registry name has 1 to {MAX_NAME} characters")
    url, host = _check_url(ns.url)
    patterns = _check_patterns(ns.pattern, host)
    if ns.username is not None and len(ns.username) > MAX_USERNAME:
        raise AdminError(f"the username is longer than {MAX_USERNAME} characters")
    password = _read_password(ns)
    store = _secret_store(ns)
    with writing(ns) as db:
        writes.warn_if_readable(db.path)
        organization = writes.write_organization(db)
        if writes.unique_name(db, organization, name) != name:
            raise AdminError(f"a registry named {name!r} already exists")
        row_id = writes.new_id()
        losers = _other_defaults(db, row_id) if ns.default else []
        column, label = _put_secret(ns, store, row_id, host, password)
        writes.insert_row(
            db,
            name=name,
            url=url,
            username=ns.username or None,
            password=column,
            patterns_json=json.dumps(patterns),
            is_default=ns.default,
            origin=ADMIN,
            secret_store=label,
            row_id=row_id,
        )
    print(f"added registry {name!r} for {host}{_notes(ns.url, ns.default, losers)}")
    _never_answers(name, ns.username, bool(password))
    _wiring_hint(ns, host)
    return 0


def _other_defaults(db: registries.Registries, keep: str = "") -> list[str]:
    """The names of the organization's default rows other than ``keep`` (what --default moves)."""
    rows = db.conn.execute(
        'SELECT "Name" FROM "Registries" WHERE "IsDefault" = ? AND upper("OrganizationId") = ? '
        'AND "Id" != ? ORDER BY "CreatedAt", "Id"',
        (True, writes.write_organization(db), keep),
    ).fetchall()
    return [str(row[0]) for row in rows]


def _notes(url: str | None, made_default: bool, losers: list[str]) -> str:
    """`` (https://, as no scheme was given; default; 'hub' is no longer the default)``."""
    notes = []
    if url and "://" not in url:  # https is the default, as for docker login; say it was chosen
        notes.append("https://, as no scheme was given")
    if made_default:
        notes.append("default")
        notes += [_no_longer_default(name) for name in losers]
    return f" ({'; '.join(notes)})" if notes else ""


def _no_longer_default(name: str) -> str:
    """ReadyStackGo keeps one default row per organization: the row that lost it is named."""
    return f"{printable(name)!r} is no longer the default"


def _never_answers(name: str, username: str | None, has_password: bool) -> None:
    """One stderr line when a row can never answer (DESIGN: username and password non-empty)."""
    missing, options = missing_credentials(username, has_password)
    if not missing:
        return
    import shlex

    sys.stderr.write(
        f"{NAME}: note: registry {name!r} has no {' and no '.join(missing)}, so it never "
        f"answers; set {'them' if len(missing) > 1 else 'it'} with "
        f"`{NAME} registry update {shlex.quote(name)} {options}`\n"
    )


def _wiring_hint(ns: argparse.Namespace, host: str) -> None:
    """One stderr line when the Docker config does not send ``host`` to this helper yet."""
    path = paths.docker_config_path(ns.environ)
    try:
        config = dockerconfig.load(path, missing_ok=True)
    except ConfigError:
        return  # doctor reports a broken config file; adding a row does not depend on it
    if dockerconfig.hosts_without_helper(config, [host]):
        who = (
            "skopeo and podman" if config.get("credsStore") == SELF else "Docker, skopeo and podman"
        )
        sys.stderr.write(
            f"{NAME}: note: {path} has no credHelpers entry for {host}, so {who} do not ask "
            f"this helper for it; run `{NAME} configure-docker`\n"
        )


def update(ns: argparse.Namespace) -> int:
    """registry update."""
    password = _read_password(ns)
    with writing(ns) as db:
        row = find(db, ns.name)
        changes, host = _changes(db, row, ns)
        stale, moved_to = _secret_change(db, row, ns, password, host, changes)
        changes = _real_changes(row, changes)
        if not changes and not (ns.default and not row.is_default):
            print(f"registry {row.name!r} unchanged: the options given change nothing")
            return 0  # nothing written: Version and UpdatedAt stay
        if changes:
            writes.update_row(db, row.id, **changes)
        losers = []
        if ns.default:
            losers = _other_defaults(db, row.id)
            writes.set_default(db, row.id)
    _after_commit(row, moved_to, stale)
    print(f"updated registry {row.name!r}{_notes(ns.url, ns.default, losers)}")
    if not row.is_login:
        kept = bool(row.in_keyring or row.password)
        has_password = bool(password) if password is not None else kept
        username = changes.get("Username", row.username)
        _never_answers(str(changes.get("Name", row.name)), str(username or ""), has_password)
    return 0


def _changes(
    db: registries.Registries, row: registries.Row, ns: argparse.Namespace
) -> tuple[dict[str, object], str]:
    """The columns the options set, checked, besides the secret; and the row's host after them."""
    changes: dict[str, object] = {}
    host = row.host or ""
    if ns.url:
        changes["Url"], host = _check_url(ns.url)
    if ns.rename:
        changes["Name"] = _new_name(db, row, ns.rename.strip())
    patterns = [] if ns.clear_patterns else list(row.patterns or [])
    if ns.pattern or ns.clear_patterns or ns.url:
        patterns = _check_patterns(patterns + ns.pattern, host)
        changes["ImagePatterns"] = json.dumps(patterns)
    if ns.username is not None:
        changes["Username"] = ns.username or None
    if ns.no_default:
        changes["IsDefault"] = False  # a boolean on PostgreSQL
    return changes, host


def _new_name(db: registries.Registries, row: registries.Row, new: str) -> str:
    """``new`` as the row's name; refused when empty, too long or another row's (any case)."""
    organization = writes.write_organization(db)
    taken = writes.unique_name(db, organization, new) != new
    if not new or len(new) > MAX_NAME or (taken and new.lower() != row.name.lower()):
        raise AdminError(f"cannot rename to {new!r}")
    return new


def _secret_change(
    db: registries.Registries,
    row: registries.Row,
    ns: argparse.Namespace,
    password: str | None,
    host: str,
    changes: dict[str, object],
) -> tuple[str, str]:
    """Put a new password where it goes (into ``changes`` or a keyring): (stale entry, new host).

    The stale keyring entry is forgotten, and a kept one follows the row to its new host, only
    once the update is committed.
    """
    if password is None:
        return "", (host if row.in_keyring and host != row.host else "")
    store = ns.secret_store or (KEYRING if row.in_keyring else _secret_store(ns))
    changes["Password"], label = _put_secret(ns, store, row.id, host, password)
    writes.record_side(db, row.id, row.origin, label)
    return (row.secret_store if row.in_keyring and label != row.secret_store else ""), ""


def _after_commit(row: registries.Row, moved_to: str, stale: str) -> None:
    """The keyring follows a committed update: the entry to the row's new host, an old one out."""
    if moved_to:
        _rebind(row, moved_to)
    if stale:
        secrets.forget(stale, row.id, row.host or "")


def _real_changes(row: registries.Row, changes: dict[str, object]) -> dict[str, object]:
    """The changes that differ from the row as it is (a new password always counts)."""
    current: dict[str, object] = {
        "Url": row.url,
        "Name": row.name,
        "ImagePatterns": json.dumps(row.patterns) if row.patterns is not None else None,
        "Username": row.username,
        "IsDefault": int(row.is_default),
    }
    return {k: v for k, v in changes.items() if k == "Password" or v != current[k]}


def remove(ns: argparse.Namespace) -> int:
    """registry remove."""
    with writing(ns) as db:
        row = find(db, ns.name)
        writes.delete_row(db, row.id)
    if row.in_keyring:
        secrets.forget(row.secret_store, row.id, row.host or "")
    print(f"removed registry {row.name!r}")
    return 0


def set_default(ns: argparse.Namespace) -> int:
    """registry set-default."""
    with writing(ns) as db:
        row = find(db, ns.name)
        losers = _other_defaults(db, row.id)
        writes.set_default(db, row.id)
    lost = "".join(f"; {_no_longer_default(name)}" for name in losers)
    print(f"registry {row.name!r} is now the default{lost}")
    return 0


def _describe(row: registries.Row) -> dict[str, object]:
    return {
        "name": row.name,
        "url": row.url,
        "host": row.host,
        "username": row.username,
        "password": mask(row.password) if not row.in_keyring else "<in keyring>",
        "default": row.is_default,
        "patterns": row.patterns,
        "origin": row.origin,
        "secret_store": row.secret_store,
        "id": row.id,
    }


def list_(ns: argparse.Namespace) -> int:
    """registry list."""
    rows = all_rows(ns)
    if ns.json:
        print(json.dumps([_describe(r) for r in rows], indent=2))
        return 0
    if not rows:
        print(f"no registries in {db_path(ns)[0]}")
        return 0
    for row in rows:
        flags = ", ".join(
            f
            for f in (
                "default" if row.is_default else "",
                row.origin if row.is_login else "",
                KEYRING if row.in_keyring else "",
            )
            if f
        )
        patterns = "(invalid JSON)" if row.patterns is None else ", ".join(row.patterns) or "-"
        # Values come from the database: escape sequences in them must not reach the terminal.
        print(
            f"{printable(row.name)}  {printable(row.url)}  user={printable(row.username or '-')}  "
            f"password={_describe(row)['password']}  patterns={printable(patterns)}"
            + (f"  [{flags}]" if flags else "")
        )
    return 0


def show(ns: argparse.Namespace) -> int:
    """registry show."""
    db = open_read(ns)
    if db is None:
        raise AdminError(f"no registry named {ns.name!r}: {db_path(ns)[0]} does not exist")
    try:
        row = find(db, ns.name)
    finally:
        db.close()
    info = _describe(row)
    if ns.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:13} {printable(value)}")
    return 0
