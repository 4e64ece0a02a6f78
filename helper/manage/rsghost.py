"""configure-docker --readystackgo: find ReadyStackGo's container and database, wire Docker to it.

The Docker Engine is asked through docker-py (the ecosystem's Engine API client, which reads
DOCKER_HOST, else /var/run/docker.sock); it is imported only by this verb.
"""

from __future__ import annotations

import argparse
import os
import posixpath
from collections.abc import Mapping
from typing import Any

from readystack.store import connstring, fileaccess, registries, settings
from readystack.store.conventions import NAME
from readystack.store.diag import printable
from readystack.store.errors import DatabaseError
from readystack.store.verberrors import AdminError, ConnectionStringError, UnsafeValue

from . import dockerwiring

DEFAULT_CONTAINER = "readystackgo"
IMAGE = "wiesenwischer/readystackgo"
# ReadyStackGo's defaults inside its image: working folder /app, DataPath "data".
APP_FOLDER = "/app"
DEFAULT_DATA_PATH = "data"
DB_FILE = "readystackgo.db"


def run(ns: argparse.Namespace) -> int:
    """Find the container and its database, then write the config file and credHelpers."""
    if ns.remove or ns.creds_store or ns.registries:
        raise AdminError(
            "--readystackgo takes the hosts from ReadyStackGo's database; "
            "use it without --remove, --creds-store or --registries"
        )
    allowed = getattr(ns, "allow_image", None)
    client = _engine(ns.environ)
    try:
        container = _container(client, ns.readystackgo, allowed)
    finally:
        client.close()
    # Found by name or by image, the container must run ReadyStackGo: anyone who may start a
    # container named `readystackgo` would otherwise choose where root's logins go.
    check_image(container, allowed)
    name = container.name
    inside = database_in_container(container.attrs)
    host_path, mount = host_path_of(container.attrs, inside, name)
    try:
        settings.check_value("database", host_path)
    except UnsafeValue:
        raise AdminError(
            f"the database's path on this host, {printable(host_path)}, has a control character "
            "or leading or trailing blanks: it cannot be written into the config file"
        ) from None
    hosts = readable_hosts(host_path, ns.system)
    check_owners(host_path)
    config_file = settings.SYSTEM_FILE if ns.system else settings.user_file(ns.environ)
    # Everything that can refuse is checked before anything is written.
    planned = dockerwiring.plan_helpers(ns, hosts) if hosts else None
    _check_writable(config_file, ns.system)
    print(f"ReadyStackGo container {name}: database {inside} is {host_path} ({mount})")
    try:
        settings.set_value(config_file, "database", host_path)
    except UnsafeValue as exc:
        raise AdminError(str(exc)) from None
    print(f"wrote database = {host_path} into {config_file}")
    if planned is None:
        print(
            "no registry host in that database yet: no credHelpers entry added; run this "
            "again after adding registries in ReadyStackGo"
        )
        return 0
    dockerwiring.commit(*planned)
    return 0


def _engine(environ: Mapping[str, str]) -> Any:
    import docker

    where = environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = docker.from_env(environment=dict(environ), timeout=10)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - docker-py raises requests' and its own errors
        raise AdminError(
            f"no Docker Engine answers at {where} ({_first_line(exc)}): start Docker, or set "
            "DOCKER_HOST to its socket, and run this on the host where ReadyStackGo runs"
        ) from None
    return client


def _first_line(exc: BaseException) -> str:
    # docker-py wraps requests' error, which wraps urllib3's, which wraps the socket's: the
    # innermost OS error says what happened (no such socket, permission denied, refused).
    seen: BaseException | None = exc
    while seen is not None:
        for arg in (seen, *seen.args):
            if isinstance(arg, OSError) and arg.strerror:
                return arg.strerror
        seen = seen.__cause__ or seen.__context__
    return "no answer"


def _container(client: Any, wanted: str, allowed: str | None) -> Any:
    import docker.errors

    if wanted:
        try:
            return client.containers.get(wanted)
        except docker.errors.NotFound:
            raise AdminError(
                f"no container named or with id {wanted!r}: `docker ps -a` lists them"
            ) from None
    try:
        return client.containers.get(DEFAULT_CONTAINER)
    except docker.errors.NotFound:
        pass
    every = client.containers.list(all=True)
    found = [
        c for c in every if is_readystackgo_image(c.attrs.get("Config", {}).get("Image"), allowed)
    ]
    if not found:
        raise AdminError(
            f"no ReadyStackGo container: none is named {DEFAULT_CONTAINER} and none runs "
            f"{IMAGE}; name it: {NAME} configure-docker --readystackgo CONTAINER"
        )
    if len(found) > 1:
        listed = ", ".join(f"{c.name} ({c.attrs['Config']['Image']})" for c in found)
        raise AdminError(
            f"several ReadyStackGo containers: {listed}; name one: "
            f"{NAME} configure-docker --readystackgo CONTAINER"
        )
    return found[0]


def is_readystackgo_image(image: object, allowed: str | None = None) -> bool:
    """Whether a container's image reference is ReadyStackGo's, under any tag or digest.

    ``allowed`` (``--allow-image``) accepts that image too: any tag of it, or exactly the tag
    or digest it names.
    """
    if not isinstance(image, str):
        return False
    name, pinned = _split_reference(image)
    if name == IMAGE:
        return True
    if not allowed:
        return False
    allowed_name, allowed_pin = _split_reference(allowed)
    return name == allowed_name and (not allowed_pin or pinned == allowed_pin)


def _split_reference(image: str) -> tuple[str, str]:
    """(repository without Docker Hub's prefixes, lower case; its tag or digest, or '')."""
    name, at, digest = image.strip().partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = ""
    if ":" in last:
        tag = last.split(":", 1)[1]
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        name = name.removeprefix(prefix)
    if name.startswith("library/") and name.count("/") == 1:
        name = name.removeprefix("library/")  # Docker Hub's official images: `alpine`
    return name.lower(), (at + digest) if at else tag


def check_image(container: Any, allowed: str | None) -> None:
    """Refuse a container that does not run ReadyStackGo's image (or the one allowed)."""
    image = (container.attrs.get("Config") or {}).get("Image")
    if is_readystackgo_image(image, allowed):
        return
    shown = printable(image) if isinstance(image, str) else "an unnamed image"
    also = f" nor {printable(allowed)}" if allowed else ""
    raise AdminError(
        f"container {printable(container.name)} runs {shown}, not {IMAGE}{also}: its mounts "
        "cannot be trusted to hold ReadyStackGo's database; if it is a ReadyStackGo you built "
        "yourself, name its image with --allow-image IMAGE"
    )


def database_in_container(attrs: dict) -> str:
    """The database's path inside the container, from its environment as ReadyStackGo reads it."""
    config = attrs.get("Config") or {}
    env = dict(item.partition("=")[::2] for item in config.get("Env") or [])
    workdir = config.get("WorkingDir") or APP_FOLDER
    connection = env.get("ConnectionStrings__ReadyStackGo")
    if connection:  # ReadyStackGo reads its connection string first, then DataPath
        try:
            return posixpath.normpath(
                posixpath.join(workdir, connstring.data_source_as_written(connection))
            )
        except ConnectionStringError as exc:
            raise AdminError(f"the container's ConnectionStrings__ReadyStackGo: {exc}") from None
    data = env.get("DataPath") or DEFAULT_DATA_PATH
    return posixpath.normpath(posixpath.join(workdir, data, DB_FILE))


def host_path_of(attrs: dict, inside: str, name: str) -> tuple[str, str]:
    """The database's path on this host through the container's mounts, and which mount."""
    best = None
    for mount in attrs.get("Mounts") or []:
        target = posixpath.normpath(mount.get("Destination") or "/")
        covers = inside == target or inside.startswith(target.rstrip("/") + "/")
        if covers and (best is None or len(target) > len(best[0])):
            best = (target, mount)
    folder = posixpath.dirname(inside)
    if best is None or best[1].get("Type") not in ("volume", "bind") or not best[1].get("Source"):
        raise AdminError(
            f"ReadyStackGo's data folder {folder} in container {name} is not on a volume or bind "
            "mount, so its database dies with the container; recreate the container with "
            f"-v readystackgo-data:{folder} and run this again"
        )
    target, mount = best
    rest = posixpath.relpath(inside, target)
    where = f"volume {mount.get('Name')}" if mount["Type"] == "volume" else "bind mount"
    return posixpath.normpath(posixpath.join(mount["Source"], rest)), where


def readable_hosts(path: str, system: bool) -> list[str]:
    """The registry hosts in the database at ``path``; refused when this user cannot read it."""
    advice = (
        "run this as a user who can read it"
        if system
        else f"on most hosts the Docker data folder is readable by root only: run "
        f"`sudo {NAME} configure-docker --readystackgo --system` to configure it for root"
    )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        os.close(fd)
    except FileNotFoundError:
        raise AdminError(
            f"{path} does not exist: start ReadyStackGo once so that it creates its database"
        ) from None
    except OSError as exc:
        raise AdminError(f"cannot read {path} ({exc.strerror}); {advice}") from None
    try:
        db = registries.open_read(path)
    except DatabaseError as exc:
        raise AdminError(f"{exc}; {advice}") from None
    if db is None:
        raise AdminError(f"{path} disappeared while it was read; run this again")
    try:
        rows = db.all_rows()
    except DatabaseError as exc:
        raise AdminError(str(exc)) from None
    finally:
        db.close()
    return dockerwiring.table_hosts(rows)


def check_owners(path: str) -> None:
    """Refuse a database whose file or a folder above it someone else owns or may write.

    Only root (and this user, when not root) may own or write them: whoever else could would
    choose the file that `docker login` fills with this user's passwords.
    """
    try:
        why = fileaccess.distrust(os.stat(path), "the file") or fileaccess.distrusted_folder(path)
    except OSError as exc:
        why = f"the file cannot be examined ({exc.strerror})"
    if why:
        raise AdminError(
            f"refusing ReadyStackGo's database {path}: {why}; only root (or this user) may own "
            "or write it and its folders, or another user could choose where logins are kept"
        )


def _check_writable(config_file: str, system: bool) -> None:
    # The file is replaced through a temp file beside it: its folder (or the nearest existing
    # parent, where the folder will be made) must be writable.
    existing = os.path.dirname(config_file)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK | os.X_OK):
        hint = "run it as root" if system else "check its permissions"
        raise AdminError(f"cannot write {config_file}: permission denied; {hint}")
