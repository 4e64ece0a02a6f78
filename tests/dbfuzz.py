"""A Hypothesis state machine over database contents: any cell, any type, in both tables.

Rules add and delete rows of `Registries` and `ReadyStackHelper` with random cell types and
values; invariants run `get`, `list`, `kubelet` and `doctor` in-process and check that they never
raise, never hang, and never answer for a host other than the one asked. The normal suite runs a
small fixed-seed profile (tests/unit/test_db_fuzz.py); `python tests/dbfuzz.py --seconds 60` is
CI's budgeted run, which prints how many cases it tried.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from readystack.store import errors, verberrors

sys.path.insert(0, str(Path(__file__).parent))
import rawdb  # noqa: E402 - the shared test module beside this file
from readystack.helper.lookup import actions, kubelet, protocol
from readystack.helper.lookup import target as targets  # noqa: E402
from readystack.helper.manage import doctor  # noqa: E402
from readystack.store import hosts, paths, schema  # noqa: E402

HANG_GUARD = 20  # seconds for one verb: a lookup takes milliseconds
KUBELET_API = "credentialprovider.kubelet.k8s.io/v1"
CASES = {"count": 0, "answers": 0}

HOSTS = ["ghcr.io", "GHCR.io:5000", "docker.io", "index.docker.io", "quay.io", "localhost:5000"]
URLS = st.one_of(
    st.sampled_from(
        [
            "https://ghcr.io",
            "http://ghcr.io:5000/v2/",
            "ghcr.io",
            "https://docker.io",
            "https://index.docker.io/v1/",
            "https://index.docker.io/v1/access-token",
            "https://registry-1.docker.io",
            "quay.io",
            "http://localhost:5000",
            " https://ghcr.io ",
            "https://evil.com\\@ghcr.io",
            "https://u:p@ghcr.io",
            "https://ghcr.io@evil.com",
            "https://ghcr.io\x1b[2J",
            "https://evil.com/ghcr.io",
            "ftp://ghcr.io",
            "",
        ]
    ),
    st.builds(
        lambda s, h: f"{s}{h}", st.sampled_from(["", "https://", "http://"]), st.sampled_from(HOSTS)
    ),  # fmt: skip
)
# Escape sequences and other C0/C1 control characters, as a row may hold them in any column.
CONTROLS = st.text(
    alphabet=st.sampled_from("\x1b\x07\x9b\x85\x00\r\n\t\x7f]0;[2Ja:/."), max_size=16
)
CELLS = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.binary(max_size=12),
    CONTROLS,
)
PATTERN_TEXT = st.one_of(
    st.sampled_from(["**", "*", "team/*", "team/**", "ghcr.io/**", "quay.io/**", "a*b*c", "nginx"]),
    st.text(alphabet="ab/*.:-[]@ ", max_size=24),
)
PATTERNS = st.one_of(
    st.just("[]"),
    st.lists(PATTERN_TEXT, max_size=4).map(json.dumps),
    st.lists(st.one_of(PATTERN_TEXT, st.integers(), st.none()), max_size=3).map(json.dumps),
)
LABELS = st.one_of(
    st.none(),
    st.just("database"),
    st.sampled_from(
        [
            "database",
            "keyring:this.X",
            "keyring:os.abort",
            "keyring:signal.pause",
            "keyring:keyring.backends.SecretService.Keyring",
            "keyring:keyring.backends.chainer.ChainerBackend",
            "keyring:",
        ]
    ),
    CELLS,
)
QUESTIONS = st.one_of(
    st.sampled_from(
        [
            "ghcr.io",
            "ghcr.io:5000",
            "https://ghcr.io/v2/",
            "ghcr.io/team/app",
            "ghcr.io/a/b/c:1",
            "docker.io",
            "https://index.docker.io/v1/",
            "https://index.docker.io/v1/access-token",
            "team/app",
            "quay.io/x/y",
            "localhost:5000/team/app",
            "evil.com",
            "https://evil.com\\@ghcr.io",
        ]
    ),
    st.sampled_from(HOSTS),
    st.text(max_size=30),
)
# A well-formed value per column; add_row breaks a few of them per row.
VALID = {
    "Id": st.uuids().map(lambda u: str(u).upper()),
    "Name": st.text(min_size=1, max_size=12),
    "Url": st.builds(
        lambda scheme, host: scheme + host,
        st.sampled_from(["", "https://", "http://"]),
        st.sampled_from(HOSTS),
    ),
    "Username": st.sampled_from(["alice", "bob", "<token>", ""]),
    "Password": st.sampled_from(["pw-1", "pw-2", "", None]),
    "IsDefault": st.sampled_from([0, 1]),
    "ImagePatterns": PATTERNS,
    "SecretStore": st.sampled_from([None, "database"]),
    "Origin": st.sampled_from(["login", "admin"]),
}
# What a broken cell holds: any type and value, plus the tricky texts of some columns.
BROKEN = {"Url": st.one_of(URLS, URLS, URLS, CELLS), "SecretStore": st.one_of(LABELS, CELLS)}
BREAKAGE = st.one_of(st.just(set()), st.sets(st.sampled_from(sorted(VALID)), max_size=2))
# Past ReadyStackGo's maximum where the column has one (never answered), else 100,000 characters.
OVERSIZED = st.sampled_from(schema.NAMES)
IMAGES = st.sampled_from(
    ["ghcr.io/team/app", "nginx", "quay.io/x/y", "localhost:5000/a", "ghcr.io"]
)


# The oracle, written apart from the product's parser: an optional http(s) scheme, then the host
# and nothing that could make another parser read another host (no userinfo, backslash, space
# or control character), then an optional path.
_PLAIN_URL = re.compile(r"(?:https?://)?([A-Za-z0-9.:\[\]_-]+)(?:[/?#][\x21-\x7e]*)?")


def names_host(url: object, host: str) -> bool:
    """Whether a Url cell unambiguously names ``host`` (canonical)."""
    if not isinstance(url, str):
        return False
    found = _PLAIN_URL.fullmatch(url.strip())
    return (
        found is not None
        and "\\" not in url
        and "@" not in url.split("/")[2 if "://" in url else 0]
        and hosts.canonical(found.group(1)) == host
    )


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail the example instead of hanging: SIGALRM raises inside the verb."""

    def expired(signum: int, frame: object) -> None:
        raise AssertionError(f"a verb ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class DatabaseMachine(RuleBasedStateMachine):
    """Random rows in both tables; every verb stays safe whatever they hold."""

    def __init__(self) -> None:
        super().__init__()
        # In memory where there is a tmpfs: each example writes a fresh file, and fsync on a
        # disk would be most of the run's time.
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self.root = Path(tempfile.mkdtemp(prefix="rsdbfuzz-", dir=shm))
        self.db = self.root / "registries.db"
        self.environ = {
            "HOME": str(self.root),
            "PATH": "/usr/bin:/bin",
            "READYSTACK_DB": str(self.db),
            "DOCKER_CONFIG": str(self.root / "docker"),
            "XDG_DATA_HOME": str(self.root / "data"),
        }
        self.ids: list[object] = []
        self.refused: set[str] = set()  # usernames of rows with a cell past its maximum

    @initialize(typed=st.booleans(), data=st.data(), count=st.integers(0, 8))
    def create(self, typed: bool, data: st.DataObject, count: int) -> None:
        """ReadyStackGo's schema, or one without declared types (any value keeps its type)."""
        rawdb.make(self.db, typeless=not typed)
        for _ in range(count):  # a table that already holds rows when the lookups start
            self.add_row(data, data.draw(BREAKAGE, "broken"))

    @rule(data=st.data(), broken=BREAKAGE)
    def add_row(self, data: st.DataObject, broken: set[str]) -> None:
        """One row: each cell valid, except those in ``broken``, which get any type and value."""
        CASES["count"] += 1
        cell = {
            column: data.draw(BROKEN.get(column, CELLS) if column in broken else valid, column)
            for column, valid in VALID.items()
        }
        try:
            rawdb.insert(self.db, cell["Id"], cell["Name"], cell["Url"], cell["Username"],
                         cell["Password"], patterns=cell["ImagePatterns"],
                         default=cell["IsDefault"])  # fmt: skip
            if cell["SecretStore"] is not None:
                with contextlib.closing(sqlite3.connect(self.db)) as conn, conn:
                    conn.execute(
                        'INSERT OR REPLACE INTO "ReadyStackHelper" VALUES (?, ?, ?)',
                        (cell["Id"], cell["Origin"], cell["SecretStore"]),
                    )
        except sqlite3.Error:
            return  # a NULL or duplicate key: SQLite refused the row, as it should
        self.ids.append(cell["Id"])

    @rule(url=URLS, username=VALID["Username"], password=VALID["Password"])
    def add_lookalike_row(self, url: str, username: str, password: str | None) -> None:
        """A row whose credentials answer, under a Url that may name two hosts at once."""
        CASES["count"] += 1
        row_id = f"L{len(self.ids)}-{CASES['count']}"
        rawdb.insert(self.db, row_id, row_id, url, username, password)
        self.ids.append(row_id)

    @rule(data=st.data())
    def delete_row(self, data: st.DataObject) -> None:
        """Remove one row (its side-table entry may stay behind, as after a crash)."""
        if not self.ids:
            return
        row_id = data.draw(st.sampled_from(self.ids))
        with sqlite3.connect(self.db) as conn:
            conn.execute('DELETE FROM "Registries" WHERE "Id" IS ?', (row_id,))
        conn.close()
        self.ids.remove(row_id)

    @rule(column=OVERSIZED, host=st.sampled_from(HOSTS), extra=st.integers(1, 3000))
    def add_oversized_row(self, column: str, host: str, extra: int) -> None:
        """A row of ``host`` whose ``column`` is too long: lookups skip it if it has a maximum."""
        CASES["count"] += 1
        n = CASES["count"]
        cells: dict[str, object] = {
            "Id": f"O{n}", "OrganizationId": rawdb.ORG, "Name": f"O{n}", "Url": f"https://{host}/",
            "Username": f"oversized-{n}", "Password": f"pw-{n}", "IsDefault": 0,
            "CreatedAt": "2025-01-01 00:00:00.0000000", "UpdatedAt": None,
            "ImagePatterns": '["**"]', "Version": 1,
        }  # fmt: skip
        limit = schema.BY_NAME[column].max_len
        grown = "a" * ((limit or 100_000) + extra)
        cells[column] = (
            json.dumps(["**", grown]) if column == "ImagePatterns" else f"{cells[column]}{grown}"
        )
        with contextlib.closing(sqlite3.connect(self.db)) as conn, conn:
            conn.execute(schema.INSERT, tuple(cells[name] for name in schema.NAMES))
        self.ids.append(cells["Id"])
        if limit is not None:
            self.refused.add(str(cells["Username"]))

    def _owned_by(self, host: str, username: str, secret: str | None = None) -> None:
        """Some row of ``host`` holds this username (and secret): no other host's answered."""
        assert username not in self.refused, f"a row with a cell past its maximum answered {host}"
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            found = conn.execute(
                'SELECT "Url", "Password" FROM "Registries" WHERE "Username" = ?', (username,)
            ).fetchall()
        for url, password in found:
            if secret is not None and (password or "") != secret:
                continue
            if names_host(url, host):
                return
        raise AssertionError(f"{username!r} answered for {host}, but no row of {host} has it")

    @rule(question=QUESTIONS)
    def get(self, question: str) -> None:
        """`get` answers only with a row of the host asked, or not-found."""
        CASES["count"] += 1
        try:
            with deadline(HANG_GUARD):
                out = actions.get(question.encode("utf-8", "surrogatepass"), self.environ)
        except errors.HelperError:
            return
        answer = json.loads(out)
        CASES["answers"] += 1
        target = targets.parse(protocol.server_text(question.encode()))
        self._owned_by(target.host, answer["Username"], answer["Secret"])

    @rule(image=IMAGES)
    def kubelet(self, image: str) -> None:
        """The kubelet's answer names only the image's host, with a row of that host."""
        CASES["count"] += 1
        request = {"apiVersion": KUBELET_API, "kind": "CredentialProviderRequest", "image": image}
        try:
            with deadline(HANG_GUARD):
                response = kubelet.respond(json.dumps(request).encode(), self.environ, "5m")
        except verberrors.KubeletError:
            return
        host = targets.parse(image, bare_name_is_image=True).host
        for auth in response["auth"].values():
            self._owned_by(host, auth["username"], auth["password"])

    @invariant()
    def list_answers_only_its_own_hosts(self) -> None:
        """`list` never raises, and each key's username is a row of that key's host."""
        if not self.db.exists():
            return
        with deadline(HANG_GUARD):
            entries = json.loads(actions.list_(self.environ))
        for key, username in entries.items():
            self._owned_by(targets.parse(key).host, username)

    @rule()
    def doctor(self) -> None:
        """`doctor` finishes with 0 or 1, whatever the rows hold."""
        CASES["count"] += 1
        ns = argparse.Namespace(environ=self.environ, db=None, online=False, timeout=10.0)
        with deadline(HANG_GUARD), contextlib.redirect_stdout(io.StringIO()) as out:
            assert doctor.run(ns) in (0, 1)
        # Whatever a row holds reaches the terminal escaped: no control character but newlines.
        shown = out.getvalue().split("\n")
        assert all(line.isprintable() for line in shown), [x for x in shown if not x.isprintable()]

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """No real Docker config of this machine, no keyring, no D-Bus: only the fuzzed database."""
    saved = paths.ROOT_DOCKER_CONFIG, dict(os.environ)
    paths.ROOT_DOCKER_CONFIG = "/nonexistent/readystack-fuzz/config.json"
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/readystack-fuzz-bus"
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    try:
        yield
    finally:
        paths.ROOT_DOCKER_CONFIG = saved[0]
        os.environ.clear()
        os.environ.update(saved[1])


SMALL = settings(
    derandomize=True,
    max_examples=15,
    stateful_step_count=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def budgeted(seconds: float) -> int:
    """Run fresh random batches until ``seconds`` have passed; the number of cases tried."""
    batch = settings(SMALL, derandomize=False, max_examples=50, stateful_step_count=20)
    stop = time.monotonic() + seconds
    with isolated(), contextlib.redirect_stderr(io.StringIO()):
        while time.monotonic() < stop:
            DatabaseMachine.TestCase.settings = batch
            DatabaseMachine.TestCase().runTest()
    return CASES["count"]


def main() -> int:
    """CI's budgeted run: prints the number of cases (rows, lookups, kubelet and doctor runs)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    seconds = parser.parse_args().seconds
    started = time.monotonic()
    cases = budgeted(seconds)
    took = time.monotonic() - started
    print(
        f"database fuzz: {cases} cases ({CASES['answers']} answered lookups) in {took:.0f} s, "
        "no failure"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
