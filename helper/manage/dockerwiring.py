"""Planning and writing credHelpers into the Docker config, shared by configure-docker's modes."""

from __future__ import annotations

import argparse
import os
import sys

from readystack.store import dockerconfig, paths, registries
from readystack.store.conventions import NAME, SELF
from readystack.store.dockerconfig import keys_for
from readystack.store.verberrors import AdminError, ConfigError


def table_hosts(rows: list[registries.Row]) -> list[str]:
    """The registry hosts of ``rows`` that configure-docker wires (OAuth keys are no host)."""
    return sorted({r.host for r in rows if r.host and not r.is_oauth_key})


def load_config(path: str) -> dict:
    """The Docker config file's content (empty when missing); a broken file is refused."""
    try:
        return dockerconfig.load(path, missing_ok=True)
    except ConfigError as exc:
        raise AdminError(f"{exc}; fix it first, it was not changed") from None


def writable_config(ns: argparse.Namespace) -> tuple[str, dict]:
    """The Docker config file's path and content, refused when it cannot be rewritten."""
    path = paths.docker_config_path(ns.environ)
    config = load_config(path)
    folder = os.path.dirname(os.path.realpath(path))
    if os.path.exists(folder) and not os.access(folder or ".", os.W_OK):
        raise AdminError(f"cannot write {path}: its folder is not writable; it was not changed")
    if os.path.exists(path) and not os.access(os.path.realpath(path), os.W_OK):
        raise AdminError(f"cannot write {path}: permission denied; it was not changed")
    return path, config


def plan_helpers(ns: argparse.Namespace, wanted: list[str]) -> tuple[str, dict, list[str]]:
    """The Docker config with credHelpers for ``wanted``, in memory only; refusals raise."""
    path, config = writable_config(ns)
    helpers = config.get("credHelpers")
    if helpers is None:
        helpers = config["credHelpers"] = {}
    if not isinstance(helpers, dict):
        raise AdminError(f"credHelpers in {path} is not an object; it was not changed")
    changes: list[str] = []
    set_helpers(helpers, wanted, ns.overwrite, changes)
    return path, config, changes


def commit(path: str, config: dict, changes: list[str]) -> None:
    """Write a planned Docker config (when something changed) and say what changed."""
    if not changes:
        print(f"{path}: already configured, nothing changed")
        return
    try:
        dockerconfig.save(path, config)
    except ConfigError as exc:
        raise AdminError(str(exc)) from None
    for line in changes:
        print(line)
    print(f"wrote {path}")


def set_helpers(helpers: dict, wanted: list[str], overwrite: bool, changes: list[str]) -> None:
    """Point each host's keys at this helper; another helper's entry only with ``overwrite``."""
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
