"""ReadyStackGo-shaped databases, and the temporary workspace that holds them."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from . import log

SIZES = (10, 1000, 10000)
CYCLE_HOSTS = 100
ORG = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
# ReadyStackGo's table as the product creates it (DESIGN.md's DDL), plus an organization.
ORGANIZATIONS_DDL = (
    'CREATE TABLE "Organizations" ("Id" TEXT NOT NULL CONSTRAINT "PK_Organizations" '
    'PRIMARY KEY, "Name" TEXT NOT NULL, "CreatedAt" TEXT NOT NULL);'
)


def is_hub_row(i: int, n: int) -> bool:
    """Some Docker Hub rows: index 5 and every 250th after it, never the last (the target)."""
    return i % 250 == 5 and i != n - 1


def _row(i: int, n: int, rng: random.Random) -> tuple:
    guid = str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()
    created = f"2026-01-01 00:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 10**7:07d}"
    if is_hub_row(i, n):
        url, patterns = "https://index.docker.io/v1/", [f"hubteam{i}/*", f"hubteam{i}/**"]
        default = int(i == 5)
    else:
        host = f"reg{i}.example.com"
        url = f"https://{host}"
        patterns = [f"team{i}/*", f"{host}/**"]
        if i % 3 == 0:
            patterns.insert(1, f"team{i}/app-*")
        default = 0
    return (
        guid,
        ORG,
        f"reg{i}",
        url,
        f"user{i}",
        f"secret-{i}",
        default,
        created,
        None,
        json.dumps(patterns),
        1,
    )


def make_db(path: str, n: int, seed: int = 6) -> None:
    """A database of ``n`` registries, the same for the same ``n`` and ``seed``."""
    rng = random.Random(seed * 100003 + n)
    conn = sqlite3.connect(path)
    from readystack.store.schema import SCHEMA

    conn.executescript(SCHEMA + ORGANIZATIONS_DDL)
    created = "2026-01-01 00:00:00.0000000"
    conn.execute('INSERT INTO "Organizations" VALUES (?, ?, ?)', (ORG, "bench", created))
    rows = [_row(i, n, rng) for i in range(n)]
    conn.executemany('INSERT INTO "Registries" VALUES (?,?,?,?,?,?,?,?,?,?,?)', rows)
    conn.commit()
    conn.close()


class Workspace:
    """A temporary folder: the databases, a home with an empty Docker config, stdin files."""

    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        self.home = os.path.join(tmp, "home")
        os.makedirs(os.path.join(self.home, ".docker"))
        self.dbs: dict[int, str] = {}
        for n in (*SIZES, CYCLE_HOSTS):
            self.dbs[n] = os.path.join(tmp, f"registries-{n}.db")
            make_db(self.dbs[n], n)
        # The concurrency case writes: its own copy, so that the other cases read what they made.
        self.conc_db = os.path.join(tmp, "concurrent-1000.db")
        shutil.copy(self.dbs[1000], self.conc_db)
        # ReadyStackGo's file is in WAL mode (EF Core's SqliteDatabaseCreator sets it); the writer
        # case writes into its own copy.
        self.wal_db = os.path.join(tmp, "wal-1000.db")
        self.wal_writer_db = os.path.join(tmp, "wal-writer-1000.db")
        for path in (self.wal_db, self.wal_writer_db):
            shutil.copy(self.dbs[1000], path)
            conn = sqlite3.connect(path)
            conn.execute("PRAGMA journal_mode = 'wal'")
            conn.close()
        # A config file naming the 1,000-row database, found with no READYSTACK_DB at all.
        self.config_home = os.path.join(tmp, "xdg-config")
        os.makedirs(os.path.join(self.config_home, "docker-credential-readystack"))
        with open(
            os.path.join(self.config_home, "docker-credential-readystack", "config"), "w"
        ) as fh:
            fh.write(f"# written by configure-docker --readystackgo\ndatabase = {self.dbs[1000]}\n")
        self.base_env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": self.home,
            "LANG": "C.UTF-8",
            "DOCKER_CONFIG": os.path.join(self.home, ".docker"),
            "XDG_DATA_HOME": os.path.join(self.home, "xdg"),
        }

    def env_for(self, db: str | None) -> dict[str, str]:
        """The isolated environment, pointing READYSTACK_DB at ``db`` when given."""
        return {**self.base_env, "READYSTACK_DB": db} if db else dict(self.base_env)

    def env_config(self) -> dict[str, str]:
        """The isolated environment with no READYSTACK_DB: the config file names the database."""
        return {**self.base_env, "XDG_CONFIG_HOME": self.config_home}

    def stdin_file(self, name: str, text: str) -> str:
        """A file in the workspace holding ``text``, to be a command's stdin."""
        path = os.path.join(self.tmp, name)
        with open(path, "w") as fh:
            fh.write(text)
        return path


@contextmanager
def workspace(keep: bool) -> Iterator[Workspace]:
    """A fresh Workspace, removed afterwards unless ``keep``."""
    tmp = tempfile.mkdtemp(prefix="rs-bench-")
    try:
        yield Workspace(tmp)
    finally:
        if keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
