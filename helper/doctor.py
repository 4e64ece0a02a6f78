"""doctor: check the database, the rows and their patterns, the Docker config and the keyring."""

from __future__ import annotations

import argparse
import os
import shutil
import stat
from collections.abc import Mapping

from readystack.store import dockerconfig, paths, registries, secrets
from readystack.store.conventions import NAME, SELF
from readystack.store.dockerconfig import keys_for

from .adminlib import db_path
from .resolver import choose, compile_row, repository_matters
from .target import SERVER, Target


class Report:
    """Collected findings; any problem makes doctor exit 1."""

    def __init__(self) -> None:
        self.problems = 0

    def ok(self, text: str) -> None:
        print(f"ok       {text}")

    def info(self, text: str) -> None:
        print(f"info     {text}")

    def warning(self, text: str) -> None:
        print(f"warning  {text}")

    def problem(self, text: str) -> None:
        self.problems += 1
        print(f"PROBLEM  {text}")


def run(ns: argparse.Namespace) -> int:
    """Run every check and print one line per finding."""
    report = Report()
    path, how = db_path(ns)
    for problem in paths.database_problems(ns.environ):
        report.problem(problem)
    rows = _check_database(report, path, how)
    if rows:
        _check_rows(report, rows)
    _check_docker_config(report, rows, ns.environ)
    _check_keyring(report, rows, ns.environ)
    if ns.online:
        _check_online(report, rows, ns.environ, ns.timeout)
    print(f"{report.problems} problem(s) found" if report.problems else "no problems found")
    return 1 if report.problems else 0


def _check_database(report: Report, path: str, how: str) -> list[registries.Row]:
    if not os.path.exists(path):
        report.info(
            f"database {path} (chosen by {how}) does not exist yet: lookups find nothing there"
        )
        return []
    report.ok(f"database {path} (chosen by {how}) exists")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        report.problem(f"{path} has mode {mode:04o}: others can read passwords; chmod 600 it")
    if not os.access(path, os.R_OK):
        report.problem(f"{path} is not readable by this user")
        return []
    try:
        db = registries.open_read(path)
    except registries.DatabaseError as exc:
        report.problem(str(exc))
        return []
    assert db is not None
    try:
        if "Registries" not in db.tables:
            report.info("the database has no Registries table yet")
            return []
        if db.is_readystackgo:
            report.info("a ReadyStackGo database: docker login/logout are refused, lookups work")
        rows = db.all_rows()
    except registries.DatabaseError as exc:
        report.problem(str(exc))
        return []
    finally:
        db.close()
    for text in db.skipped:
        report.problem(text)
    report.ok(f"{len(rows)} registry row(s)")
    return rows


def _check_rows(report: Report, rows: list[registries.Row]) -> None:
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
        if not row.has_credentials:
            report.info(f"row {row.name!r}: no username/password, so it never answers")
    for host, host_rows in sorted(by_host.items()):
        _check_host_ranking(report, host, [r for r in host_rows if r.has_credentials])
        logins = [r for r in host_rows if r.is_login]
        if len(logins) > 1:
            report.problem(f"{host}: {len(logins)} login rows; `docker logout {host}` clears them")


def _check_host_ranking(report: Report, host: str, answering: list[registries.Row]) -> None:
    """Say which row a host-only question gets, and warn where clients will disagree."""
    if len(answering) < 2 and not repository_matters(answering):
        return
    winner = choose(answering, Target(host, SERVER, host))
    got = repr(winner.name) if winner else "nothing"
    names = ", ".join(repr(r.name) for r in answering)
    if not repository_matters(answering):
        report.info(f"{host}: {len(answering)} rows ({names}); every question gets {got}")
        return
    report.warning(
        f"{host}: the answer depends on the repository (rows {names}): crane-style tools, "
        "the kubelet and `docker pull|push|run|create IMAGE` (the image hint, Linux) route by "
        "pattern, while docker compose, buildx, docker-py, skopeo and podman send only the host "
        f"and get {got}"
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
    except dockerconfig.ConfigError as exc:
        report.problem(f"Docker config {exc}")
        return
    helpers = config.get("credHelpers") if isinstance(config.get("credHelpers"), dict) else {}
    store = config.get("credsStore")
    if store == SELF:
        report.ok(f"{path}: credsStore is readystack")
    elif store:
        report.info(f"{path}: credsStore is docker-credential-{store}")
    wired = store == SELF
    for host in sorted({r.host for r in rows if r.host and not r.is_oauth_key}):
        keys = keys_for(host)
        own = [k for k in keys if helpers.get(k) == SELF]
        other = [f"{k} -> {helpers[k]}" for k in keys if k in helpers and helpers[k] != SELF]
        if other:
            report.problem(f"{host}: credHelpers sends it to another helper ({', '.join(other)})")
        elif own or wired:
            report.ok(f"{host}: Docker asks this helper")
        else:
            report.problem(
                f"{host}: not in {path}; run `docker-credential-readystack configure-docker`"
            )
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
        except dockerconfig.ConfigError as exc:
            report.problem(f"fallback config {exc}")


def _check_keyring(report: Report, rows: list[registries.Row], environ: Mapping[str, str]) -> None:
    in_keyring = [r for r in rows if r.in_keyring]
    try:
        wanted = secrets.wanted_store(environ)
    except secrets.SecretStoreError as exc:
        report.problem(str(exc))
        wanted = secrets.DATABASE
    in_use = bool(in_keyring) or wanted == "keyring"
    if not in_use:
        report.info("secrets are kept in the database (READYSTACK_SECRETS=database)")
    try:
        backend = secrets.write_backend()
        report.ok(f"keyring backend {secrets.class_path(backend)} works")
    except secrets.SecretStoreError as exc:
        (report.problem if in_use else report.info)(str(exc))
    for row in in_keyring:
        try:
            value, bound = secrets.get(row.secret_store, row.id, row.host or "")
        except secrets.SecretStoreError as exc:
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
    from . import regcheck, regtest

    rows = regtest.select_rows(rows, [], None)
    if not rows:
        report.info("online: no row with credentials to check")
        return
    for result in regtest.check_rows(rows, None, environ, timeout):
        line = f"row {result.name!r} on {result.host}: {result.status}: {result.detail}"
        (report.ok if result.status == regcheck.OK else report.problem)(f"online: {line}")
