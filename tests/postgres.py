"""A private PostgreSQL cluster for tests: initdb into a temp folder, 127.0.0.1, a free port."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from e2e.tools import free_port, unavailable

BIN = Path("/usr/lib/postgresql/15/bin")
APT = "postgresql"
USER = "postgres"
_names = itertools.count(1)


def _as_postgres(args: list[str]) -> list[str]:
    # initdb refuses to run as root; as root, run the server as the unprivileged postgres user.
    return ["runuser", "-u", USER, "--", *args] if os.geteuid() == 0 else args


class Cluster:
    """One PostgreSQL server owned by the tests; `stop`/`start` simulate an outage."""

    def __init__(self) -> None:
        if not (BIN / "initdb").exists():
            unavailable(f"PostgreSQL 15 not installed: apt-get install -y {APT}")
        self.root = Path(tempfile.mkdtemp(prefix="rspg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sock"
        self.sockets.mkdir()
        self.port = free_port()
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, USER, USER)
            shutil.chown(self.sockets, USER, USER)
        self._run([str(BIN / "initdb"), "-A", "trust", "-U", USER, "-D", str(self.data)])
        self.start()

    def _run(self, args: list[str]) -> None:
        proc = subprocess.run(_as_postgres(args), capture_output=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {proc.stdout!r} {proc.stderr!r}")

    def start(self) -> None:
        """Start the server on its port (again, after `stop`)."""
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "server.log")
        self._run(
            [str(BIN / "pg_ctl"), "-D", str(self.data), "-l", log, "-w", "-o", options, "start"]
        )

    def stop(self) -> None:
        """Stop the server at once (`-m fast`), as an outage would."""
        self._run([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def remove(self) -> None:
        """Stop the server if it runs and delete its folder."""
        status = subprocess.run(
            _as_postgres([str(BIN / "pg_ctl"), "-D", str(self.data), "status"]),
            capture_output=True,
        )
        if status.returncode == 0:
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def uri(self, database: str = USER) -> str:
        """A libpq URI without a password (trust authentication)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = USER) -> str:
        """Run SQL through psql and return its unaligned output."""
        proc = subprocess.run(
            [
                str(BIN / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                self.uri(database),
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"psql failed: {proc.stderr}")
        return proc.stdout

    def new_database(self) -> str:
        """A fresh, empty database; returns its URI."""
        name = f"t{os.getpid()}_{next(_names)}"
        self.psql(f'CREATE DATABASE "{name}"')
        return self.uri(name)
