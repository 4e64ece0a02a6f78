"""Management and debugging verbs for people: registry, resolve, explain, doctor."""

from __future__ import annotations

import argparse
import json
import os
import sys

from readystack.store import hosts, paths, registries, secrets
from readystack.store.diag import PROG, mask

from . import protocol
from . import target as targets
from .patterns import PatternError, compile_pattern

MAX_NAME, MAX_URL, MAX_USERNAME, MAX_PASSWORD = 100, 500, 255, 1000


class AdminError(Exception):
    """A management verb failed; the message goes to stderr and the exit status is 1."""


def main(args: list[str]) -> int:
    """Parse a management verb's arguments and run it."""
    parser = _parser()
    ns = parser.parse_args(args)
    return int(ns.func(ns) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Management and debugging verbs.")
    verbs = parser.add_subparsers(dest="verb", required=True)

    def verb(
        name: str, help_text: str, func: object, sub: object = verbs
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)  # type: ignore[attr-defined]
        p.add_argument("--db", metavar="PATH", help="database to use (default: see README)")
        p.set_defaults(func=func)
        return p

    reg = verbs.add_parser("registry", help="manage the Registries table")
    regs = reg.add_subparsers(dest="action", required=True)
    add = verb("add", "add a registry row", cmd_add, regs)
    add.add_argument("name")
    add.add_argument("--url", required=True, help="registry URL, e.g. https://ghcr.io")
    _row_options(add)
    lst = verb("list", "list rows (passwords masked)", cmd_list, regs)
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    show = verb("show", "show one row (password masked)", cmd_show, regs)
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    upd = verb("update", "change a row", cmd_update, regs)
    upd.add_argument("name")
    upd.add_argument("--url")
    upd.add_argument("--rename", metavar="NEW_NAME", help="give the row a new name")
    upd.add_argument("--clear-patterns", action="store_true", help="remove every pattern first")
    upd.add_argument("--no-default", action="store_true", help="clear the default flag")
    _row_options(upd)
    rm = verb("remove", "delete a row (and its keyring entry)", cmd_remove, regs)
    rm.add_argument("name")
    sd = verb("set-default", "make a row the default", cmd_set_default, regs)
    sd.add_argument("name")
    mv = verb(
        "move-secrets", "move passwords between the database and the keyring", _move_secrets, regs
    )
    mv.add_argument("names", nargs="*", metavar="NAME", help="rows to move (default: all)")
    mv.add_argument("--to", required=True, choices=("keyring", "database"))
    mv.add_argument("--force", action="store_true", help="allow it on a ReadyStackGo database")

    res = verb("resolve", "print what `get TARGET` would answer", cmd_resolve)
    res.add_argument("target")
    res.add_argument("--show-secret", action="store_true", help="print the secret unmasked")
    exp = verb("explain", "trace how TARGET is resolved", cmd_explain)
    exp.add_argument("target")
    verb("doctor", "check the setup; exit 1 when something is wrong", cmd_doctor)

    from . import configure

    cfg = verb("configure-docker", "add credHelpers entries to the Docker config", configure.run)
    cfg.add_argument(
        "--registries", metavar="H,…", help="hosts to configure (default: the table's)"
    )
    cfg.add_argument("--creds-store", action="store_true", help="set credsStore instead")
    cfg.add_argument("--overwrite", action="store_true", help="replace another helper's entries")
    cfg.add_argument("--remove", action="store_true", help="take our entries out again")

    kub = verb("kubelet", "kubelet image credential provider (request on stdin)", _kubelet)
    kub.add_argument("--cache-duration", default="5m", help="cacheDuration to answer (default 5m)")
    return parser


def _move_secrets(ns: argparse.Namespace) -> int:
    from .movesecrets import run

    return run(ns)


def _kubelet(ns: argparse.Namespace) -> int:
    from . import kubelet

    return kubelet.run(ns)


def _row_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--username")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (never argv)"
    )
    p.add_argument("--pattern", action="append", default=[], metavar="P", help="image pattern")
    p.add_argument("--default", action="store_true", help="make this the default row")
    p.add_argument(
        "--secret-store",
        choices=("database", "keyring"),
        help="where the password goes (default: READYSTACK_SECRETS, else database)",
    )


# ---- helpers ---------------------------------------------------------------------------------


def db_path(ns: argparse.Namespace) -> tuple[str, str]:
    """The database a verb works on, and how it was found."""
    return paths.database_path(os.environ, getattr(ns, "db", None))


def _open_write(ns: argparse.Namespace) -> registries.Registries:
    path, _ = db_path(ns)
    try:
        db = registries.open_write(path)
    except (OSError, registries.sqlite3.Error) as exc:
        raise AdminError(f"cannot open {path} for writing: {exc}") from None
    if db.is_readystackgo:
        sys.stderr.write(f"{PROG}: note: writing to ReadyStackGo's database {path}\n")
    return db


def _find(db: registries.Registries, name: str) -> registries.Row:
    row = db.row_by_name(name)
    if row is None:
        raise AdminError(f"no registry named {name!r} in {db.path}")
    return row


def _check_url(url: str) -> tuple[str, str]:
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    authority = url.split("://", 1)[1].split("/", 1)[0]
    if "@" in authority:
        raise AdminError("the URL carries user information; use --username and --password-stdin")
    try:
        host = hosts.host_of_url(url)
    except hosts.HostError as exc:
        raise AdminError(f"invalid registry URL {url!r}: {exc}") from None
    if len(url) > MAX_URL:
        raise AdminError(f"the URL is longer than {MAX_URL} characters")
    if url in hosts.OAUTH_KEYS:
        raise AdminError("that URL is one of Docker Hub's OAuth keys, not a registry")
    return url, host


def _check_patterns(patterns: list[str], host: str) -> list[str]:
    for text in patterns:
        try:
            compile_pattern(text, host)
        except PatternError as exc:
            raise AdminError(f"refused: {exc}") from None
    return patterns


def _read_password(ns: argparse.Namespace) -> str | None:
    if not ns.password_stdin:
        return None
    data = sys.stdin.buffer.read(protocol.MAX_INPUT + 1)
    if len(data) > protocol.MAX_INPUT:
        raise AdminError("the password on stdin is too large")
    text = data.decode("utf-8", "strict")
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
        return secrets.wanted_store(os.environ)
    except secrets.SecretStoreError as exc:
        raise AdminError(str(exc)) from None


def _put_secret(store: str, row_id: str, password: str | None) -> tuple[str | None, str]:
    """(Password column value, SecretStore label) for a new password."""
    if store != "keyring" or password is None:
        return password, secrets.DATABASE
    try:
        label = secrets.put(secrets.write_backend(), row_id, password)
    except secrets.SecretStoreError as exc:
        raise AdminError(str(exc)) from None
    return None, label


# ---- registry verbs --------------------------------------------------------------------------


def cmd_add(ns: argparse.Namespace) -> int:
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
    db = _open_write(ns)
    try:
        with registries.transaction(db):
            organization = registries.write_organization(db)
            if registries.unique_name(db, organization, name) != name:
                raise AdminError(f"a registry named {name!r} already exists")
            row_id = registries.new_id()
            column, label = _put_secret(store, row_id, password)
            registries.insert_row(
                db,
                name=name,
                url=url,
                username=ns.username or None,
                password=column,
                patterns_json=json.dumps(patterns),
                is_default=ns.default,
                origin="admin",
                secret_store=label,
                row_id=row_id,
            )
    finally:
        db.close()
    print(f"added registry {name!r} for {host}" + (" (default)" if ns.default else ""))
    return 0


def cmd_update(ns: argparse.Namespace) -> int:
    """registry update."""
    password = _read_password(ns)
    db = _open_write(ns)
    stale = ""
    try:
        with registries.transaction(db):
            row = _find(db, ns.name)
            changes: dict[str, object] = {}
            host = row.host or ""
            if ns.url:
                changes["Url"], host = _check_url(ns.url)
            if ns.rename:
                new = ns.rename.strip()
                organization = registries.write_organization(db)
                taken = registries.unique_name(db, organization, new) != new
                if not new or len(new) > MAX_NAME or (taken and new.lower() != row.name.lower()):
                    raise AdminError(f"cannot rename to {new!r}")
                changes["Name"] = new
            patterns = [] if ns.clear_patterns else list(row.patterns or [])
            if ns.pattern or ns.clear_patterns or ns.url:
                patterns = _check_patterns(patterns + ns.pattern, host)
                changes["ImagePatterns"] = json.dumps(patterns)
            if ns.username is not None:
                changes["Username"] = ns.username or None
            if password is not None:
                store = ns.secret_store or ("keyring" if row.in_keyring else _secret_store(ns))
                changes["Password"], label = _put_secret(store, row.id, password)
                if row.in_keyring and label != row.secret_store:
                    stale = row.secret_store
                registries.record_side(db, row.id, row.origin, label)
            if ns.no_default:
                changes["IsDefault"] = 0
            if changes:
                registries.update_row(db, row.id, **changes)
            if ns.default:
                registries.set_default(db, row.id)
    finally:
        db.close()
    if stale:
        _forget(stale, row.id)
    print(f"updated registry {row.name!r}")
    return 0


def _forget(label: str, row_id: str) -> None:
    try:
        secrets.delete(label, row_id)
    except secrets.SecretStoreError as exc:
        sys.stderr.write(f"{PROG}: could not delete the old keyring entry: {exc}\n")


def cmd_remove(ns: argparse.Namespace) -> int:
    """registry remove."""
    db = _open_write(ns)
    try:
        with registries.transaction(db):
            row = _find(db, ns.name)
            registries.delete_row(db, row.id)
    finally:
        db.close()
    if row.in_keyring:
        _forget(row.secret_store, row.id)
    print(f"removed registry {row.name!r}")
    return 0


def cmd_set_default(ns: argparse.Namespace) -> int:
    """registry set-default."""
    db = _open_write(ns)
    try:
        with registries.transaction(db):
            row = _find(db, ns.name)
            registries.set_default(db, row.id)
    finally:
        db.close()
    print(f"registry {row.name!r} is now the default")
    return 0


def _open_read(ns: argparse.Namespace) -> registries.Registries | None:
    path, _ = db_path(ns)
    try:
        return registries.open_read(path)
    except registries.sqlite3.Error as exc:
        raise AdminError(f"cannot read {path}: {exc}") from None


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


def cmd_list(ns: argparse.Namespace) -> int:
    """registry list."""
    db = _open_read(ns)
    rows = [] if db is None else db.all_rows()
    if db is not None:
        db.close()
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
                "keyring" if row.in_keyring else "",
            )
            if f
        )
        patterns = "(invalid JSON)" if row.patterns is None else ", ".join(row.patterns) or "-"
        print(
            f"{row.name}  {row.url}  user={row.username or '-'}  "
            f"password={_describe(row)['password']}  patterns={patterns}"
            + (f"  [{flags}]" if flags else "")
        )
    return 0


def cmd_show(ns: argparse.Namespace) -> int:
    """registry show."""
    db = _open_read(ns)
    if db is None:
        raise AdminError(f"no registry named {ns.name!r}: {db_path(ns)[0]} does not exist")
    try:
        row = _find(db, ns.name)
    finally:
        db.close()
    info = _describe(row)
    if ns.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:13} {value}")
    return 0


# ---- resolve / explain -----------------------------------------------------------------------


def _target(text: str) -> targets.Target:
    try:
        return targets.parse(text.strip(), bare_name_is_image=True)
    except targets.TargetError as exc:
        raise AdminError(
            f"{text!r} is neither a registry server nor an image reference: {exc}"
        ) from None


def cmd_resolve(ns: argparse.Namespace) -> int:
    """resolve: what `get TARGET` would answer."""
    from .resolver import resolve

    target = _target(ns.target)
    if target.note:
        sys.stderr.write(f"{PROG}: {target.note}\n")
    path, _ = db_path(ns)
    answer = resolve(target, os.environ, path)
    if answer is None:
        print(protocol.NOT_FOUND)
        return 1
    secret = answer.secret if ns.show_secret else mask(answer.secret)
    sys.stdout.write(protocol.encode_credentials(ns.target.strip(), answer.username, secret))
    sys.stderr.write(f"{PROG}: answered by {answer.source}\n")
    return 0


def cmd_explain(ns: argparse.Namespace) -> int:
    """explain: the whole trace of a resolution, secrets masked."""
    from .resolver import Trace, resolve

    target = _target(ns.target)
    path, how = db_path(ns)
    trace = Trace()
    answer = resolve(target, os.environ, path, trace)
    print(f"explain {ns.target.strip()!r}")
    print(f"database: {path} ({how})")
    for line in trace.lines:
        print(f"  {line}")
    if answer is None:
        print(
            f"result: not found; `get` answers {protocol.NOT_FOUND!r} and the client "
            "pulls anonymously"
        )
    else:
        print(
            f"result: username {answer.username!r}, secret {mask(answer.secret)}, "
            f"from {answer.source}"
        )
    return 0


# ---- doctor ----------------------------------------------------------------------------------


def cmd_doctor(ns: argparse.Namespace) -> int:
    """doctor: check the setup and exit 1 when something is wrong."""
    from .doctor import run

    return run(ns)
