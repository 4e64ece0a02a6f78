"""configure-docker: wire this helper into the Docker config atomically, keeping other keys."""

from __future__ import annotations

import argparse
import os
import sys

from readystack.store import dockerconfig, hosts, paths
from readystack.store.conventions import NAME, SELF
from readystack.store.dockerconfig import keys_for

from .adminlib import AdminError, open_read


def _table_hosts(ns: argparse.Namespace) -> list[str]:
    db = open_read(ns)
    if db is None:
        return []
    try:
        rows = db.all_rows()
    finally:
        db.close()
    return sorted({r.host for r in rows if r.host and not r.is_oauth_key})


def _wanted_hosts(ns: argparse.Namespace) -> list[str]:
    if not ns.registries:
        return _table_hosts(ns)
    out = []
    for item in ns.registries.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(hosts.host_of_url(item))
        except hosts.HostError as exc:
            raise AdminError(f"--registries: {item!r} is not a registry host: {exc}") from None
    return out


def _load(path: str) -> dict:
    try:
        return dockerconfig.load(path, missing_ok=True)
    except dockerconfig.ConfigError as exc:
        raise AdminError(f"{exc}; fix it first, it was not changed") from None


def run(ns: argparse.Namespace) -> int:
    """The configure-docker verb."""
    path = paths.docker_config_path(ns.environ)
    config = _load(path)
    if not os.access(os.path.dirname(os.path.realpath(path)) or ".", os.W_OK) and os.path.exists(
        os.path.dirname(os.path.realpath(path))
    ):
        raise AdminError(f"cannot write {path}: its folder is not writable; it was not changed")
    if os.path.exists(path) and not os.access(os.path.realpath(path), os.W_OK):
        raise AdminError(f"cannot write {path}: permission denied; it was not changed")
    wanted = _wanted_hosts(ns)
    changes: list[str] = []
    if ns.remove:
        _remove(config, wanted if ns.registries else None, changes)
    elif ns.creds_store:
        _set_store(config, ns.overwrite, changes)
    else:
        if not wanted:
            raise AdminError(
                "no registries in the table to configure; add one or pass --registries H,…"
            )
        helpers = config.get("credHelpers")
        if helpers is None:
            helpers = config["credHelpers"] = {}
        if not isinstance(helpers, dict):
            raise AdminError(f"credHelpers in {path} is not an object; it was not changed")
        _set_helpers(helpers, wanted, ns.overwrite, changes)
    if not changes:
        print(f"{path}: already configured, nothing changed")
        return 0
    dockerconfig.save(path, config)
    for line in changes:
        print(line)
    print(f"wrote {path}")
    return 0


def _set_helpers(helpers: dict, wanted: list[str], overwrite: bool, changes: list[str]) -> None:
    conflicts = []
    for host in wanted:
        for key in keys_for(host):
            current = helpers.get(key)
            if current == SELF:
                continue
            if current is not None and not overwrite:
                conflicts.append(f"{key} (uses docker-credential-{current})")
                continue
            if current is not None:
                sys.stderr.write(
                    f"{NAME}: {key}: replacing docker-credential-{current}; logins kept by it "
                    "will no longer be used\n"
                )
            helpers[key] = SELF
            changes.append(f"credHelpers[{key!r}] = {SELF!r}")
    if conflicts:
        raise AdminError(
            "refusing to replace another helper's entries without --overwrite: "
            + ", ".join(conflicts)
        )


def _set_store(config: dict, overwrite: bool, changes: list[str]) -> None:
    current = config.get("credsStore")
    if current == SELF:
        return
    if current and not overwrite:
        raise AdminError(
            f"credsStore is docker-credential-{current}; refusing to replace it without "
            "--overwrite (logins kept by it would no longer be used)"
        )
    if current:
        sys.stderr.write(
            f"{NAME}: replacing credsStore docker-credential-{current}; logins kept by it "
            "will no longer be used\n"
        )
    config["credsStore"] = SELF
    changes.append(f"credsStore = {SELF!r}")


def _remove(config: dict, only: list[str] | None, changes: list[str]) -> None:
    helpers = config.get("credHelpers")
    keys = None if only is None else {k for h in only for k in keys_for(h)}
    if isinstance(helpers, dict):
        for key in [k for k, v in helpers.items() if v == SELF and (keys is None or k in keys)]:
            del helpers[key]
            changes.append(f"removed credHelpers[{key!r}]")
    if only is None and config.get("credsStore") == SELF:
        del config["credsStore"]
        changes.append("removed credsStore")
