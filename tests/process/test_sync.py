"""sync through the executable, in every direction between SQLite files and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from readystackgo import (
    DDL,
    EF_HISTORY,
    RunningReadyStackGo,
    create_readystackgo_database,
    side_files,
)

from .backends import PostgresTable, SqliteTable, Table
from .conftest import Run

LOGIN = b'{"ServerURL":"%s","Username":"me","Secret":"mine"}'


def make_table(kind: str, name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Table:
    if kind == "sqlite":
        return SqliteTable(tmp_path / f"{name}.db")
    return PostgresTable(request.getfixturevalue("pg_cluster").new_database())


def add(run: Run, table: Table, name: str, url: str, *args: str, password: bytes = b"pw\n"):
    proc = run(
        "registry", "add", name, "--url", url, "--username", "u", "--password-stdin", *args,
        "--db", table.db, stdin=password,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc


def login(run: Run, table: Table, server: str) -> None:
    """A `docker login` kept in ``table``: `store` for a file, the same row by SQL on a server."""
    if isinstance(table, SqliteTable):
        proc = run("store", stdin=LOGIN % server.encode(), READYSTACK_DB=table.db)
        assert proc.returncode == 0, proc.stdout
        return
    add(run, table, server, server, password=b"mine\n")
    table.execute(
        'CREATE TABLE IF NOT EXISTS "ReadyStackHelper" ("RegistryId" TEXT NOT NULL PRIMARY KEY, '
        '"Origin" TEXT NOT NULL, "SecretStore" TEXT NOT NULL)'
    )
    table.execute(
        'INSERT INTO "ReadyStackHelper" SELECT "Id", \'login\', \'database\' FROM "Registries" '
        'WHERE "Name" = ? ON CONFLICT ("RegistryId") DO UPDATE SET "Origin" = \'login\'',
        (server,),
    )


def sync(run: Run, source: Table, dest: Table, **extra: str) -> subprocess.CompletedProcess:
    return run("sync", "--from", source.db, "--to", dest.db, **extra)


def names(table: Table) -> list[str]:
    return [r["Name"] for r in table.rows()]


DIRECTIONS = [("sqlite", "sqlite"), ("sqlite", "postgresql"), ("postgresql", "sqlite")]
DIRECTIONS.append(("postgresql", "postgresql"))


@pytest.mark.parametrize(("source_kind", "dest_kind"), DIRECTIONS)
def test_sync_copies_updates_and_removals_and_keeps_logins(
    run: Run, tmp_path: Path, request: pytest.FixtureRequest, source_kind: str, dest_kind: str
) -> None:
    source = make_table(source_kind, "source", tmp_path, request)
    dest = make_table(dest_kind, "dest", tmp_path, request)
    add(run, source, "a", "ghcr.io", "--pattern", "acme/*")
    add(run, source, "b", "quay.io", "--default")
    login(run, source, "source.example.com")  # a login of the source host: never copied
    login(run, dest, "a")  # collides with the copied row `a`
    login(run, dest, "registry.local:5000")
    first = sync(run, source, dest)
    assert first.returncode == 0, first.stderr
    assert b"2 added, 0 updated, 0 removed, 2 kept (login rows), 1 of them renamed" in first.stdout
    assert names(dest) == ["a", "a (local)", "b", "registry.local:5000"]
    copied = {r["Name"]: r for r in dest.rows()}
    assert {k: v for k, v in copied["b"].items()} == source.rows()[1]
    add(run, source, "c", "docker.io")
    run("registry", "update", "a", "--password-stdin", "--db", source.db, stdin=b"new\n")
    run("registry", "remove", "b", "--db", source.db)
    second = sync(run, source, dest)
    assert second.returncode == 0, second.stderr
    assert b"1 added, 1 updated, 1 removed, 2 kept (login rows)" in second.stdout
    assert names(dest) == ["a", "a (local)", "c", "registry.local:5000"]
    assert [r for r in dest.rows() if r["Name"] == "a"][0]["Password"] == "new"
    mine = [r for r in dest.rows() if r["Name"] == "a (local)"][0]
    assert mine["Password"] == "mine" and mine["Version"] == 2
    again = sync(run, source, dest)
    assert b"0 added, 0 updated, 0 removed, 2 kept" in again.stdout
    if isinstance(dest, SqliteTable):
        assert stat.S_IMODE(os.stat(dest.path).st_mode) == 0o600
        assert [p.name for p in dest.path.parent.iterdir() if p.name.startswith(".")] == []
        answer = run("get", stdin=b"registry.local:5000", READYSTACK_DB=dest.db)
        assert json.loads(answer.stdout)["Secret"] == "mine"


def test_a_login_made_during_syncs_is_never_lost(run: Run, tmp_path: Path, exe: Path) -> None:
    source = SqliteTable(tmp_path / "source.db")
    big_source(source.path, 2000, "gen")
    replica = tmp_path / "replica.db"
    env = {**os.environ, "READYSTACK_DB": str(replica)}
    syncs = [
        subprocess.Popen(
            [str(exe), "sync", "--from", source.db], env=env, stdout=subprocess.DEVNULL
        )
        for _ in range(4)
    ]
    servers = [f"login{i}.example.com" for i in range(16)]
    for server in servers:
        assert (
            run("store", stdin=LOGIN % server.encode(), READYSTACK_DB=str(replica)).returncode == 0
        )
    assert all(p.wait(timeout=120) == 0 for p in syncs)
    final = SqliteTable(replica)
    assert set(servers) <= set(names(final))
    assert len(final.rows()) == 2000 + len(servers)


def big_source(path: Path, count: int, tag: str) -> None:
    """A ReadyStackGo-shaped file with ``count`` rows on distinct hosts, usernames tagged."""
    conn = sqlite3.connect(path)
    conn.executescript(DDL)
    conn.executemany(
        'INSERT INTO "Registries" VALUES (?, ?, ?, ?, ?, ?, 0, ?, NULL, ?, 1)',
        (
            (
                f"00000000-0000-4000-8000-{i:012d}",
                "0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F9",
                f"r{i}",
                f"https://r{i}.example.com",
                f"{tag}-{i}",
                "pw",
                "2025-01-01 00:00:00.0000000",
                '["team/*"]',
            )
            for i in range(count)
        ),
    )
    conn.commit()
    conn.close()


def test_gets_during_syncs_see_one_whole_table(
    exe: Path, env: dict[str, str], tmp_path: Path
) -> None:
    # Two sources of 10,000 rows that differ in every username; five syncs alternate them while
    # 40 lookups run. Each answer must come whole from one of the two tables.
    sources = [tmp_path / "even.db", tmp_path / "odd.db"]
    for path, tag in zip(sources, ("even", "odd"), strict=True):
        big_source(path, 10_000, tag)
    replica = tmp_path / "replica.db"
    env = {**env, "READYSTACK_DB": str(replica)}
    first = subprocess.run(
        [str(exe), "sync", "--from", str(sources[0])], env=env, capture_output=True
    )
    assert first.returncode == 0, first.stderr
    hosts = [f"r{i}.example.com" for i in (0, 4999, 9999)]
    lookups = [
        subprocess.Popen(
            [str(exe), "get"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(40)
    ]
    syncs = 0
    for n in range(5):
        proc = subprocess.run(
            [str(exe), "sync", "--from", str(sources[(n + 1) % 2])], env=env, capture_output=True
        )
        assert proc.returncode == 0, proc.stderr
        syncs += 1
        if n == 0:
            for i, lookup in enumerate(lookups):  # released while the next syncs run
                lookup.stdin.write(hosts[i % 3].encode())  # type: ignore[union-attr]
                lookup.stdin.close()  # type: ignore[union-attr]
                lookup.stdin = None
    for i, lookup in enumerate(lookups):
        out, err = lookup.communicate(timeout=60)
        assert lookup.returncode == 0, (out, err)
        user = json.loads(out)["Username"]
        index = hosts[i % 3].split(".")[0][1:]
        assert user in (f"even-{index}", f"odd-{index}"), user
    assert syncs == 5


def test_an_unreadable_source_leaves_dest_untouched(run: Run, tmp_path: Path, pg_uri: str) -> None:
    dest = tmp_path / "replica.db"
    login(run, SqliteTable(dest), "ghcr.io")
    before = dest.read_bytes()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    for source in (str(tmp_path / "missing.db"), str(garbage), str(other), pg_uri):
        proc = run("sync", "--from", source, "--to", str(dest))
        assert proc.returncode == 1, source
        assert proc.stdout == b"" and proc.stderr.count(b"\n") == 1, proc.stderr
        assert b"cannot read" in proc.stderr
        assert dest.read_bytes() == before
    assert not (tmp_path / "missing.db").exists()


def test_a_readystackgo_database_is_never_a_dest(run: Run, tmp_path: Path) -> None:
    source = SqliteTable(tmp_path / "source.db")
    add(run, source, "a", "ghcr.io")
    rsg = tmp_path / "readystackgo.db"
    with sqlite3.connect(rsg) as conn:
        conn.executescript(DDL + EF_HISTORY)
    conn.close()
    before = rsg.read_bytes()
    proc = run("sync", "--from", source.db, "--to", str(rsg))
    assert proc.returncode == 1 and b"ReadyStackGo database" in proc.stderr
    assert proc.stderr.count(b"\n") == 1
    assert rsg.read_bytes() == before


def test_keyring_secrets_are_reported_not_copied(run: Run, tmp_path: Path) -> None:
    source = SqliteTable(tmp_path / "source.db")
    dest = SqliteTable(tmp_path / "dest.db")
    add(run, source, "kept", "ghcr.io")
    add(run, source, "vault", "quay.io", password=b"")
    source.execute(
        'CREATE TABLE IF NOT EXISTS "ReadyStackHelper" ("RegistryId" TEXT NOT NULL PRIMARY KEY, '
        '"Origin" TEXT NOT NULL, "SecretStore" TEXT NOT NULL)'
    )
    source.execute(
        'INSERT INTO "ReadyStackHelper" SELECT "Id", \'admin\', '
        '\'keyring:keyring.backends.SecretService.Keyring\' FROM "Registries" WHERE "Name" = ?',
        ("vault",),
    )
    proc = sync(run, source, dest)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count(b"\n") == 1 and b"'vault'" in proc.stderr and b"keyring" in proc.stderr
    assert [(r["Name"], r["Password"]) for r in dest.rows()] == [("kept", "pw"), ("vault", None)]
    assert dest.query('SELECT * FROM "ReadyStackHelper"') == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_every_repeats_until_a_signal(
    exe: Path, env: dict[str, str], tmp_path: Path, signum: int
) -> None:
    source = tmp_path / "source.db"
    big_source(source, 3, "u")
    proc = subprocess.Popen(
        [str(exe), "sync", "--from", str(source), "--every", "0.2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        assert first.startswith(b"synced") and b"3 added" in first
        assert b"0 added, 0 updated, 0 removed" in second
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert err == b""


def test_an_outage_fails_the_sync_and_the_replica_still_answers(
    run: Run, tmp_path: Path, pg_cluster, request: pytest.FixtureRequest
) -> None:
    source = PostgresTable(pg_cluster.new_database())
    replica = SqliteTable(tmp_path / "replica.db")
    add(run, source, "ghcr", "ghcr.io")
    assert sync(run, source, replica).returncode == 0
    pg_cluster.stop()
    try:
        down = sync(run, source, replica)
        assert down.returncode == 1 and down.stderr.count(b"\n") == 1, down.stderr
        assert b"cannot read" in down.stderr
        answer = run("get", stdin=b"ghcr.io", READYSTACK_DB=replica.db)
        assert answer.returncode == 0 and json.loads(answer.stdout)["Username"] == "u"
    finally:
        pg_cluster.start()
    add(run, source, "quay", "quay.io")
    back = sync(run, source, replica)
    assert back.returncode == 0 and b"1 added" in back.stdout
    answer = run("get", stdin=b"quay.io", READYSTACK_DB=replica.db)
    assert json.loads(answer.stdout)["Username"] == "u"


def test_get_skips_a_postgresql_database_with_one_line(run: Run, pg_uri: str) -> None:
    proc = run("get", stdin=b"ghcr.io", READYSTACK_DB=pg_uri.replace("@", ":s3cret@"))
    assert proc.returncode == 1
    assert proc.stdout == b"credentials not found in native keychain\n"
    assert proc.stderr.count(b"\n") == 1 and b"PostgreSQL" in proc.stderr
    assert b"s3cret" not in proc.stderr
    listed = run("list", READYSTACK_DB=pg_uri)
    assert listed.returncode == 0 and listed.stdout == b"{}\n"
    assert listed.stderr.count(b"\n") == 1
    doctor = run("doctor", READYSTACK_DB=pg_uri)
    assert doctor.returncode == 1
    assert b"READYSTACK_DB names the PostgreSQL database" in doctor.stdout
    assert b"sync --from" in doctor.stdout


def test_the_source_comes_from_the_config_file(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    missing = run("sync")
    assert missing.returncode == 1 and b"sync-from" in missing.stderr
    source = SqliteTable(tmp_path / "config" / "fleet.db")
    source.path.parent.mkdir()
    add(run, source, "a", "ghcr.io")
    config = Path(env["HOME"]) / ".config" / "docker-credential-readystack" / "config"
    config.parent.mkdir(parents=True)
    # A relative path is relative to the config file's folder, as for `database`.
    config.write_text(
        f"# the fleet's table\nsync-from = {os.path.relpath(source.path, config.parent)}\n"
    )
    proc = run("sync")
    assert proc.returncode == 0, proc.stderr
    assert b"1 added" in proc.stdout
    assert names(SqliteTable(Path(env["READYSTACK_DB"]))) == ["a"]


def _folder_state(db: Path) -> tuple[list[str], bytes, int]:
    return sorted(os.listdir(db.parent)), db.read_bytes(), db.stat().st_mtime_ns


@pytest.mark.parametrize("running", [False, True], ids=["stopped", "running"])
def test_publishing_readystackgo_to_postgresql_leaves_its_folder_untouched(
    run: Run, tmp_path: Path, pg_uri: str, running: bool
) -> None:
    db = tmp_path / "rsg" / "readystackgo.db"
    create_readystackgo_database(db, wal=True)
    with RunningReadyStackGo(db) as rsg:
        rsg.add("ghcr", "https://ghcr.io", "acme", "pw", patterns=["acme/*"])
        if not running:
            rsg.stop()
        assert side_files(db) == (["-wal", "-shm"] if running else [])
        before = _folder_state(db)
        proc = run("sync", "--from", str(db), "--to", pg_uri)
        assert proc.returncode == 0, proc.stderr
        assert b"1 added" in proc.stdout
        assert _folder_state(db) == before
    (row,) = PostgresTable(pg_uri).rows()
    assert (row["Name"], row["Username"], row["Password"]) == ("ghcr", "acme", "pw")
    assert json.loads(row["ImagePatterns"]) == ["acme/*"]
