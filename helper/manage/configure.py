"""configure-docker: wire this helper into the Docker config atomically, keeping other keys."""

from __future__ import annotations

import argparse
import sys

from readystack.store import hosts
from readystack.store.conventions import NAME, SELF
from readystack.store.dockerconfig import keys_for
from readystack.store.errors import HostError
from readystack.store.verberrors import AdminError

from .adminlib import all_rows
from .dockerwiring import commit, plan_helpers, table_hosts, writable_config


def _wanted_hosts(ns: argparse.Namespace) -> list[str]:
    if not ns.registries:
        return table_hosts(all_rows(ns))
    out = []
    for item in ns.registries.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(hosts.host_of_url(item))
        except HostError as exc:
            raise AdminError(f"--registries: {item!r} is not a registry host: {exc}") from None
    return out


def run(ns: argparse.Namespace) -> int:
    """The configure-docker verb."""
    if getattr(ns, "readystackgo", None) is not None:
        from . import rsghost  # the Docker Engine client is imported only for this

        return rsghost.run(ns)
    if getattr(ns, "system", False):
        raise AdminError("--system goes with --readystackgo")
    if getattr(ns, "allow_image", None):
        raise AdminError("--allow-image goes with --readystackgo")
    wanted = _wanted_hosts(ns)
    if ns.remove:
        path, config = writable_config(ns)
        changes: list[str] = []
        _remove(config, wanted if ns.registries else None, changes)
    elif ns.creds_store:
        path, config = writable_config(ns)
        changes = []
        _set_store(config, ns.overwrite, changes)
    else:
        if not wanted:
            raise AdminError(
                "no registries in the table to configure; add one or pass --registries H,…"
            )
        path, config, changes = plan_helpers(ns, wanted)
    commit(path, config, changes)
    return 0


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
