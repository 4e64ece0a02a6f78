"""`sync` killed at any instant: DEST is as it was or exactly as SOURCE; no login is lost."""

from __future__ import annotations

from pathlib import Path

import psycopg
import rawdb
from postgres import Cluster

from .harness import drive, environment, get, integrity, launch, login, logins, rows, run

# Two SOURCEs the rounds alternate between: the same registry with another password, and rows
# that exist in one only, so every round changes DEST.
SOURCES = {
    "a": [("S1", "shared", "https://shared.example", "pa"), ("A2", "only-a", "https://a.io", "x")],
    "b": [("S1", "shared", "https://shared.example", "pb"), ("B2", "only-b", "https://b.io", "y")],
}
SYNC_FILE_POINTS = ("after-begin", "after-replica-fsync", "after-replica-rename")
SYNC_PG_POINTS = ("after-begin", "mid-copy", "before-commit")


def _sources(folder: Path) -> dict[str, Path]:
    made = {}
    for key, content in SOURCES.items():
        path = folder / f"source-{key}.db"
        rawdb.make(path)
        for row_id, name, url, password in content:
            rawdb.insert(path, row_id, name, url, "u", password)
        made[key] = path
    return made


def _expected(key: str) -> set[tuple]:
    return {(i, n, u, "u", p) for i, n, u, p in SOURCES[key]}


def _other(current: set[tuple]) -> str:
    """The SOURCE whose rows DEST does not hold now."""
    return "b" if current == _expected("a") else "a"


def _copied(db: Path) -> set[tuple]:
    found = rows(db, "coalesce(h.\"Origin\", 'admin') <> 'login'")
    return {(r["Id"], r["Name"], r["Url"], r["Username"], r["Password"]) for r in found}


def test_sync_into_sqlite(fast_tmp: Path, kills: int) -> None:
    """Killed between any two steps, even between the new file's fsync and its rename."""
    env = environment(fast_tmp)
    dest = Path(env["READYSTACK_DB"])
    sources = _sources(fast_tmp)
    assert run(["store"], env, login("mine.example", "mine")).returncode == 0
    state: list[set[tuple]] = [set()]
    key = ["a"]

    def attempt(i: int, point: str | None, delay: float) -> int:
        key[0] = _other(state[0])  # always a round that changes DEST: every point is reached
        return launch(["sync", "--from", str(sources[key[0]])], env, point, delay, b"")

    def check(i: int, status: int) -> int:
        integrity(dest)
        new = _expected(key[0])
        copied = _copied(dest)
        assert copied in ([state[0], new] if status else [new])
        state[0] = copied
        assert logins(dest) == {"https://mine.example": "mine"}
        answer = get(env, "shared.example")
        shared = {p for (i_, _n, _u, _us, p) in copied if i_ == "S1"}
        assert {(answer or {}).get("Secret")} == (shared or {None})
        mine = get(env, "mine.example")
        assert mine is not None and mine["Secret"] == "mine"
        leftovers = [p.name for p in dest.parent.iterdir() if p.name.endswith(".sync")]
        assert len(leftovers) <= (1 if status else 0), leftovers  # the next round removes it
        return 6

    drive("sync into SQLite", kills, SYNC_FILE_POINTS, attempt, check)


def _pg_rows(uri: str, where: str) -> set[tuple]:
    with psycopg.connect(uri, autocommit=True) as conn:
        found = conn.execute(
            'SELECT r."Id", r."Name", r."Url", r."Username", r."Password" FROM "Registries" r '
            'LEFT JOIN "ReadyStackHelper" h ON h."RegistryId" = r."Id" WHERE ' + where
        ).fetchall()
    return set(found)


def test_sync_into_postgresql(fast_tmp: Path, kills: int, pg_cluster: Cluster) -> None:
    """Killed before COMMIT, in the middle of the COPY, or anywhere: one transaction."""
    env = environment(fast_tmp)
    uri = pg_cluster.new_database()
    sources = _sources(fast_tmp)
    first = run(["sync", "--from", str(sources["a"]), "--to", uri], env)
    assert first.returncode == 0, first.stderr
    with psycopg.connect(uri, autocommit=True) as conn:  # a login row DEST must keep
        conn.execute(
            "INSERT INTO \"Registries\" VALUES ('L1', '00000000-0000-0000-0000-000000000001', "
            "'mine', 'https://mine.example', 'me', 'mine', false, '2025-01-01 00:00:00.0000000', "
            "NULL, '[]', 1)"
        )
        conn.execute(rawdb.SIDE.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
        conn.execute("INSERT INTO \"ReadyStackHelper\" VALUES ('L1', 'login', 'database')")
    login_row = {("L1", "mine", "https://mine.example", "me", "mine")}
    state = [_expected("a")]
    key = ["a"]
    copied_where = "coalesce(h.\"Origin\", 'admin') <> 'login'"

    def attempt(i: int, point: str | None, delay: float) -> int:
        key[0] = _other(state[0])
        args = ["sync", "--from", str(sources[key[0]]), "--to", uri]
        return launch(args, env, point, delay, b"")

    def check(i: int, status: int) -> int:
        new = _expected(key[0])
        copied = _pg_rows(uri, copied_where)
        assert copied in ([state[0], new] if status else [new])
        state[0] = copied
        assert _pg_rows(uri, "h.\"Origin\" = 'login'") == login_row
        # The next round is never blocked by what the killed one held.
        again = run(["sync", "--from", str(sources[key[0]]), "--to", uri, "--timeout", "10"], env)
        assert again.returncode == 0, again.stderr
        state[0] = new
        return 3

    drive("sync into PostgreSQL", kills, SYNC_PG_POINTS, attempt, check)
    integrity(sources["a"])
