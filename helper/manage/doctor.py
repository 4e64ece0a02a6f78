"""doctor: check the database, the rows and their patterns, the Docker config and the keyring."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import stat
from collections.abc import Mapping

from readystack.store import (
    conventions,
    dockerconfig,
    fileaccess,
    hosts,
    paths,
    registries,
    secrets,
)
from readystack.store.conventions import DATABASE, KEYRING, NAME, SELF
from readystack.store.diag import printable
from readystack.store.dockerconfig import keys_for
from readystack.store.errors import DatabaseError, HostError, SecretStoreError
from readystack.store.verberrors import AdminError, ConfigError

from ..lookup.resolver import choose, compile_row, repository_matters
from ..lookup.target import SERVER, Target
from .adminlib import missing_credentials, missing_folder, open_read
from .dockerwiring import table_hosts


class Report:
    """Findings at README's three levels: PROBLEM (exit 1), warning (risky but working), info.

    Findings quote rows, files and servers: every line goes through ``printable``, the escaping
    `registry list` uses, so no escape sequence they hold reaches the terminal.
    """

    def __init__(self) -> None:
        self.problems = 0

    def ok(self, text: str) -> None:
        print(f"ok       {printable(text)}")

    def info(self, text: str) -> None:
        print(f"info     {printable(text)}")

    def warning(self, text: str) -> None:
        print(f"warning  {printable(text)}")

    def problem(self, text: str) -> None:
        self.problems += 1
        print(f"PROBLEM  {printable(text)}")


def run(ns: argparse.Namespace) -> int:
    """Run every check and print one line per finding."""
    report = Report()
    path, how = paths.database_path(ns.environ, ns.db)
    for problem in paths.database_problems(ns.environ):
        report.problem(problem)
    if conventions.is_remote(path):
        rows, of_readystackgo = _check_server(report, ns, path, how), False
    else:
        rows, of_readystackgo = _check_database(report, path, how)
    if rows:
        _check_rows(report, rows, of_readystackgo)
    _check_docker_config(report, rows, ns.environ)
    _check_keyring(report, rows, ns.environ)
    if ns.online:
        _check_online(report, rows, ns.environ, ns.timeout)
    print(f"{report.problems} problem(s) found" if report.problems else "no problems found")
    return 1 if report.problems else 0


def _check_server(
    report: Report, ns: argparse.Namespace, uri: str, how: str
) -> list[registries.Row]:
    shown = conventions.shown(uri)
    if how != "--db":
        report.problem(
            f"{how} names the PostgreSQL database {shown}: get, list and kubelet read only a "
            f"local file and skip it. Keep a local copy with `sync --from {shown} --to FILE` "
            f"(or the sync timer) and set {how} to FILE"
        )
        return []
    try:
        db = open_read(ns)
        assert db is not None
        try:
            rows = db.all_rows()
            oversized = db.too_long()
            tables = "Registries" in db.tables
        finally:
            db.close()
    # A query the server refuses (a role without SELECT on the table) is a DatabaseError.
    except (AdminError, DatabaseError) as exc:
        report.problem(f"PostgreSQL database {shown}: {exc}")
        return []
    report.ok(f"PostgreSQL database {shown} (--db) answers")
    if not tables:
        report.info("the database has no Registries table yet (created on first write)")
    _skipped(report, db.skipped, oversized)
    report.ok(f"{len(rows)} registry row(s)")
    return rows


def _skipped(report: Report, wrong_type: list[str], too_long: list[str]) -> None:
    """The rows no lookup uses: a cell of the wrong type, or longer than its maximum."""
    for text in wrong_type + too_long:
        report.problem(text)
    if too_long:
        report.problem(
            f"{len(too_long)} registry row(s) with a cell longer than ReadyStackGo's maximum: "
            "every lookup skips them"
        )


def _check_database(report: Report, path: str, how: str) -> tuple[list[registries.Row], bool]:
    problem = missing_folder(path, how) or fileaccess.access_problem(path)
    if problem:
        report.problem(problem)
        return [], False
    if not os.path.exists(path):
        report.info(
            f"database {path} (chosen by {how}) does not exist yet: lookups find nothing there"
        )
        return [], False
    report.ok(f"database {path} (chosen by {how}) exists")
    info = os.stat(path)
    if fileaccess.foreign(info.st_uid):
        owner = fileaccess.owner_name(info.st_uid)
        report.warning(
            f"{path} belongs to {owner}: lookups read it, but docker login and the writing "
            "verbs refuse to put secrets there unless --db names it"
        )
    mode = stat.S_IMODE(info.st_mode)
    try:
        db = registries.open_read(path)
    except DatabaseError as exc:
        report.problem(str(exc))
        return [], False
    assert db is not None
    try:
        if "Registries" not in db.tables:
            report.info("the database has no Registries table yet")
            return [], False
        if db.is_readystackgo:
            report.info("a ReadyStackGo database: docker login/logout are refused, lookups work")
        _check_mode(report, path, mode, db.is_readystackgo)
        rows = db.all_rows()
        oversized = db.too_long()
    except DatabaseError as exc:
        report.problem(str(exc))
        return [], False
    finally:
        db.close()
    _skipped(report, db.skipped, oversized)
    report.ok(f"{len(rows)} registry row(s)")
    return rows, db.is_readystackgo


def _check_mode(report: Report, path: str, mode: int, of_readystackgo: bool) -> None:
    """A database others can read: ReadyStackGo's own is made so (a warning), ours never is."""
    if not mode & 0o077:
        return
    if of_readystackgo:
        report.warning(
            f"{path} has mode {mode:04o}: others on this host can read its passwords; "
            "ReadyStackGo creates its database so, and every pull works; `chmod 600` it if "
            "nothing but its owner needs to read it"
        )
    else:
        report.problem(f"{path} has mode {mode:04o}: others can read passwords; chmod 600 it")


def _silent_rows(report: Report, rows: list[registries.Row], of_readystackgo: bool) -> None:
    """Rows that can never answer: a problem, unless ReadyStackGo uses them anonymously."""
    for row in rows:
        if row.is_oauth_key or row.host is None or row.has_credentials:
            continue
        # A keyring row's Password column is NULL: its secret is in the keyring.
        gone, options = missing_credentials(row.username, row.in_keyring or bool(row.password))
        missing = "no " + " and no ".join(gone)
        if row.is_login or of_readystackgo:
            report.info(f"row {row.name!r}: {missing}, so this helper never answers from it")
        else:
            report.problem(
                f"row {row.name!r}: {missing}, so it never answers; set "
                f"{'them' if len(gone) > 1 else 'it'} with `{NAME} registry update "
                f"{shlex.quote(row.name)} {options}`, or remove it"
            )


def _check_rows(report: Report, rows: list[registries.Row], of_readystackgo: bool) -> None:
    by_host: dict[str, list[registries.Row]] = {}
    defaults = [r for r in rows if r.is_default]
    if len(defaults) > 1:
        report.problem(f"{len(defaults)} default rows: " + ", ".join(r.name for r in defaults))
    for row in rows:
        if row.is_oauth_key:
            continue
        if row.host is None:
            report.problem(f"row {row.name!r}: URL {row.url!r} names no registry host")
            continue
        by_host.setdefault(row.host, []).append(row)
        compile_row(row, report.problem)  # reports a malformed column and each invalid pattern
    _silent_rows(report, rows, of_readystackgo)
    for host, host_rows in sorted(by_host.items()):
        _check_host_ranking(report, host, [r for r in host_rows if r.has_credentials])
        logins = [r for r in host_rows if r.is_login]
        if len(logins) > 1:
            report.problem(f"{host}: {len(logins)} login rows; `docker logout {host}` clears them")


def _check_host_ranking(report: Report, host: str, answering: list[registries.Row]) -> None:
    """Say which row a host-only question gets, and warn where clients will disagree."""
    matters = repository_matters(answering)
    if len(answering) < 2 and not matters:
        return
    winner = choose(answering, Target(host, SERVER, host))
    got = repr(winner.name) if winner else "nothing"
    names = ", ".join(repr(r.name) for r in answering)
    if not matters:
        report.info(f"{host}: {len(answering)} rows ({names}); every question gets {got}")
        return
    report.warning(
        f"{host}: the answer depends on the repository (rows {names}): crane-style tools and "
        "the kubelet route by pattern, and so do the docker CLI, skopeo, podman and buildah "
        "(their command line) and docker compose v2 when its project's images agree on a row "
        "(the image hint, Linux; `explain --compose` shows a project's); buildx, docker-py and "
        f"compose v1 send only the host and get {got}"
    )


def _other_helper(host: str, other: list[str], rows: list[registries.Row]) -> str:
    """credHelpers names another helper for a host of the table: the fix either way."""
    names = " ".join(printable(shlex.quote(r.name)) for r in rows if r.host == host)
    return (
        f"{host}: credHelpers sends it to another helper ({', '.join(other)}), so this helper's "
        f"rows for it are never asked; run `{NAME} configure-docker --registries {host} "
        f"--overwrite`, or, if the other helper should keep it, `{NAME} registry remove "
        f"{names or 'NAME'}`"
    )


def _check_plaintext(report: Report, path: str, config: dict, table: set[str]) -> None:
    """Plaintext `auths`: risky but working, so a warning, with the commands that move them."""
    inside, outside = [], []
    for key in dockerconfig.plaintext_auths(config):
        try:
            host = hosts.host_of_url(key) if "://" in key else hosts.check_host(key)
        except HostError:
            host = key
        (inside if host in table else outside).append(printable(key))
    if outside:
        logins = " and ".join(f"`docker login {k}`" for k in outside)
        report.warning(
            f"{path}: auths keeps plaintext credentials for {', '.join(outside)} (not in the "
            f"table); to move them into this helper, run `{NAME} configure-docker "
            f"--creds-store`, then {logins} again"
        )
    if inside:
        report.warning(
            f"{path}: auths still keeps plaintext credentials for {', '.join(inside)}, which "
            "the table serves; delete those entries from auths"
        )


def _check_docker_config(
    report: Report, rows: list[registries.Row], environ: Mapping[str, str]
) -> None:
    exe = shutil.which(NAME)
    if exe:
        report.ok(f"{NAME} is on PATH ({exe})")
    else:
        report.problem(f"{NAME} is not on PATH: Docker cannot run it")
    path = paths.docker_config_path(environ)
    try:
        config = dockerconfig.load(path) if os.path.exists(path) else {}
    except ConfigError as exc:
        report.problem(f"Docker config {exc}")
        return
    helpers = config.get("credHelpers") if isinstance(config.get("credHelpers"), dict) else {}
    store = config.get("credsStore")
    if store == SELF:
        report.ok(f"{path}: credsStore is readystack")
    elif store:
        report.info(f"{path}: credsStore is docker-credential-{store}")
    wired = store == SELF
    wanted = table_hosts(rows)  # the hosts configure-docker writes
    unwired = set(dockerconfig.hosts_without_helper(config, wanted))
    for host in wanted:
        keys = keys_for(host)
        other = [f"{k} -> {helpers[k]}" for k in keys if k in helpers and helpers[k] != SELF]
        if other:
            report.problem(_other_helper(host, other, rows))
        elif host not in unwired:
            report.ok(f"{host}: Docker, skopeo and podman ask this helper (credHelpers)")
        else:
            only = "only the docker CLI asks this helper (credsStore); " if wired else ""
            report.problem(
                f"{host}: no credHelpers entry in {path}: {only}skopeo and podman read "
                f"credHelpers only; run `{NAME} configure-docker`"
            )
    _check_plaintext(report, path, config, set(wanted))
    for name, label in (
        ("DOCKER__CONFIGPATH", "fallback config"),
        ("DOCKER_CONFIG", "DOCKER_CONFIG"),
    ):
        if environ.get(name):
            report.info(f"{label}: {environ[name]}")
    for cfg, how in dockerconfig.existing_files(paths.config_candidates(environ)):
        try:
            dockerconfig.load(cfg)
            report.ok(f"fallback config {cfg} ({how}) is readable")
        except ConfigError as exc:
            report.problem(f"fallback config {exc}")


def _check_keyring(report: Report, rows: list[registries.Row], environ: Mapping[str, str]) -> None:
    in_keyring = [r for r in rows if r.in_keyring]
    try:
        wanted = secrets.wanted_store(environ)
    except SecretStoreError as exc:
        report.problem(str(exc))
        wanted = DATABASE
    in_use = bool(in_keyring) or wanted == KEYRING
    if not in_use:
        report.info("secrets are kept in the database (READYSTACK_SECRETS=database)")
    try:
        backend = secrets.write_backend()
        secrets.check_writable(backend)  # what a write needs, found without writing
        report.ok(f"keyring backend {secrets.class_path(backend)} is ready for writes")
    except SecretStoreError as exc:
        (report.problem if in_use else report.info)(str(exc))
    for row in in_keyring:
        try:
            value, bound = secrets.get(row.secret_store, row.id, row.host or "")
        except SecretStoreError as exc:
            report.problem(f"row {row.name!r}: {exc}")
            continue
        if value is None:
            report.problem(f"row {row.name!r}: its keyring entry is missing; it never answers")
        elif not bound:
            report.problem(
                f"row {row.name!r}: its keyring entry is not bound to {row.host}; run "
                "`registry move-secrets --to keyring` to bind it"
            )


def _check_online(
    report: Report, rows: list[registries.Row], environ: Mapping[str, str], timeout: float
) -> None:
    """`--online`: `registry test` of every row with credentials, one finding per row."""
    from ..online import regcheck
    from . import regtest

    rows = regtest.select_rows(rows, [], None)
    if not rows:
        report.info("online: no row with credentials to check")
        return
    for result in regtest.check_rows(rows, None, environ, timeout):
        line = f"row {result.name!r} on {result.host}: {result.status}: {result.detail}"
        (report.ok if result.status == regcheck.OK else report.problem)(f"online: {line}")
