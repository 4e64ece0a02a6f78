"""Where the database and the Docker config files are, found in DESIGN.md's order."""

from __future__ import annotations

import os

from . import settings
from .conventions import get_ci

TYPE_CHECKING = False  # collections.abc serves annotations only: a lookup never imports it
if TYPE_CHECKING:
    from collections.abc import Mapping

READYSTACK_CONTAINER_DB = "/app/data/readystackgo.db"
READYSTACK_CONTAINER_SETTINGS = "/app/appsettings.json"
ROOT_DOCKER_CONFIG = "/root/.docker/config.json"
# How the default database is named when it is the one chosen (its path is said beside it).
DEFAULT = "the default database"
# ReadyStackGo's own connection string (its compose file sets it), parsed by connstring,
# which a lookup imports only when this variable is set.
CONNECTION_STRING = "ConnectionStrings__ReadyStackGo"


def database_path(environ: Mapping[str, str], explicit: str | None = None) -> tuple[str, str]:
    """The database to use and which setting chose it.

    Order: 1. ``--db`` 2. ``READYSTACK_DB`` 3. ``ConnectionStrings__ReadyStackGo``
    4. ``$DataPath/readystackgo.db`` 5. ``database`` in the config file
    6. ``/app/data/readystackgo.db`` if it exists 7. the default database under XDG_DATA_HOME.
    A connection string that names no usable file is passed over (``doctor`` reports it).
    """
    if explicit:
        return explicit, "--db"
    if environ.get("READYSTACK_DB"):
        return environ["READYSTACK_DB"], "READYSTACK_DB"
    if environ.get(CONNECTION_STRING):
        from . import connstring  # only where ReadyStackGo's own variable is set
        from .verberrors import ConnectionStringError

        try:
            return connstring.data_source(environ[CONNECTION_STRING]), CONNECTION_STRING
        except ConnectionStringError:
            pass
    if environ.get("DataPath"):
        return os.path.join(environ["DataPath"], "readystackgo.db"), "DataPath"
    configured = settings.database(environ)
    if configured:
        return configured[0], f"database in {configured[1]}"
    if os.path.exists(READYSTACK_CONTAINER_DB):
        return READYSTACK_CONTAINER_DB, "ReadyStackGo container"
    return default_database_path(environ), DEFAULT


def database_problems(environ: Mapping[str, str]) -> list[str]:
    """What is wrong in the settings that choose the database, one sentence each (for doctor)."""
    found = []
    if environ.get(CONNECTION_STRING):
        from . import connstring
        from .verberrors import ConnectionStringError

        try:
            connstring.data_source(environ[CONNECTION_STRING])
        except ConnectionStringError as exc:
            found.append(f"{CONNECTION_STRING} is passed over: {exc}")
    return found + settings.problems(environ)


def default_database_path(environ: Mapping[str, str]) -> str:
    """The default database: ``${XDG_DATA_HOME:-~/.local/share}/…/registries.db``."""
    data_home = environ.get("XDG_DATA_HOME") or os.path.join(
        settings.home(environ), ".local", "share"
    )
    return os.path.join(data_home, "docker-credential-readystack", "registries.db")


def docker_config_path(environ: Mapping[str, str]) -> str:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json`` (the docker CLI's choice)."""
    folder = environ.get("DOCKER_CONFIG") or os.path.join(settings.home(environ), ".docker")
    return os.path.join(folder, "config.json")


def config_candidates(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every Docker config file to consult, in order, with where it came from (may not exist).

    1. ``DOCKER__CONFIGPATH``, else ``Docker:ConfigPath`` from ReadyStackGo's appsettings.json
    2. ``$DOCKER_CONFIG/config.json`` 3. ``/root/.docker/config.json`` 4. ``~/.docker/config.json``
    """
    found: list[tuple[str, str]] = []
    if environ.get("DOCKER__CONFIGPATH"):
        found.append((environ["DOCKER__CONFIGPATH"], "DOCKER__CONFIGPATH"))
    else:
        setting = _appsettings_config_path(environ)
        if setting:
            found.append(setting)
    if environ.get("DOCKER_CONFIG"):
        found.append((os.path.join(environ["DOCKER_CONFIG"], "config.json"), "DOCKER_CONFIG"))
    found.append((ROOT_DOCKER_CONFIG, "root's Docker config"))
    found.append((os.path.join(settings.home(environ), ".docker", "config.json"), "~/.docker"))
    return found


def _appsettings_config_path(environ: Mapping[str, str]) -> tuple[str, str] | None:
    settings = environ.get("READYSTACK_APPSETTINGS")
    if not settings:
        if not os.path.exists(READYSTACK_CONTAINER_SETTINGS):
            return None
        settings = READYSTACK_CONTAINER_SETTINGS
    from .diag import warn
    from .jsonread import BadJSON, read_json  # only where ReadyStackGo's settings file is in play

    try:
        with open(settings, encoding="utf-8-sig") as fh:
            data = read_json(fh.read())
    except BadJSON as exc:
        why = f"{exc} to be ReadyStackGo's settings" if exc.nested else str(exc)
        warn(f"skipping {settings}: {why}")
        return None
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8
        warn(f"skipping {settings}: {getattr(exc, 'strerror', None) or exc}")
        return None
    # .NET configuration keys are case-insensitive.
    docker = get_ci(data, "Docker")
    path = get_ci(docker, "ConfigPath") if isinstance(docker, dict) else None
    if isinstance(path, str) and path:
        return path, f"Docker:ConfigPath in {settings}"
    return None
