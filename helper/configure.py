"""configure-docker: wire this helper into the Docker config atomically, keeping other keys."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from readystack.store import hosts, registries
from readystack.store.diag import PROG

SELF = "readystack"


def config_path() -> str:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json`` (the docker CLI's choice)."""
    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(folder, "config.json")


def keys_for(host: str) -> list[str]:
    """credHelpers keys for a host: Docker Hub under both names docker and skopeo/podman look up."""
    return [hosts.HUB_SERVER_URL, hosts.HUB] if hosts.is_hub(host) else [host]


def _table_hosts(ns: argparse.Namespace) -> list[str]:
    from .admin import db_path

    path, _ = db_path(ns)
    db = registries.open_read(path)
    if db is None:
        return []
    try:
        rows = db.all_rows()
    finally:
        db.close()
    return sorted({r.host for r in rows if r.host and not r.is_oauth_key})


def _wanted_hosts(ns: argparse.Namespace) -> list[str]:
    from .admin import AdminError

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


def load(path: str) -> dict:
    """The config as a dict; a missing file is an empty config, a malformed one is refused."""
    from .admin import AdminError

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise AdminError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise AdminError(
            f"{path} is not valid JSON ({exc}); fix it first, it was not changed"
        ) from None
    except RecursionError:
        raise AdminError(f"{path} is nested too deeply; fix it first, it was not changed") from None
    if not isinstance(data, dict):
        raise AdminError(f"{path} is not a JSON object; it was not changed")
    return data


def save(path: str, data: dict) -> None:
    """Write through a temp file and rename, following a symlink and keeping the file's mode."""
    from .admin import AdminError

    real = os.path.realpath(path)
    folder = os.path.dirname(real)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        mode = os.stat(real).st_mode & 0o7777 if os.path.exists(real) else 0o600
        fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=folder)
    except OSError as exc:
        raise AdminError(f"cannot write {path}: {exc.strerror}; it was not changed") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent="\t")
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise AdminError(f"cannot write {path}: {exc.strerror}; it was not changed") from None


def run(ns: argparse.Namespace) -> int:
    """The configure-docker verb."""
    from .admin import AdminError

    path = config_path()
    config = load(path)
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
    save(path, config)
    for line in changes:
        print(line)
    print(f"wrote {path}")
    return 0


def _set_helpers(helpers: dict, wanted: list[str], overwrite: bool, changes: list[str]) -> None:
    from .admin import AdminError

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
                    f"{PROG}: {key}: replacing docker-credential-{current}; logins kept by it "
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
    from .admin import AdminError

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
            f"{PROG}: replacing credsStore docker-credential-{current}; logins kept by it "
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
