"""A writer of a SQLite database killed at any instant loses nothing (DESIGN.md, faults).

Each writer is killed ``kills`` times: on even turns at a named point (store/faultpoint.py), on
odd turns at a random instant of its measured run time. After every kill an independent reader
(Python's sqlite3) checks the file's integrity, every acknowledged write, old-or-new for the
write that was cut, and then the very next `get` answers, before any other write.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .harness import TX, drive, environment, get, integrity, launch, login, logins, rows, run, tally


def test_store(fast_tmp: Path, kills: int) -> None:
    """`docker login` killed: every acknowledged login stays, the cut one is old or new."""
    env = environment(fast_tmp)
    db = Path(env["READYSTACK_DB"])
    acked: dict[str, str] = {}

    def attempt(i: int, point: str | None, delay: float) -> int:
        return launch(["store"], env, point, delay, login(f"reg{i % 25}.example", f"s{i}"))

    def check(i: int, status: int) -> int:
        integrity(db)
        url, new = f"https://reg{i % 25}.example", f"s{i}"
        found = logins(db)
        assert {u: s for u, s in found.items() if u != url} == {
            u: s for u, s in acked.items() if u != url
        }
        assert found.get(url) in ({acked.get(url), new} if status else {new})
        if url in found:
            acked[url] = found[url]
        answer = get(env, url.removeprefix("https://"))
        assert (answer or {}).get("Secret") == acked.get(url)
        return 3

    drive("store", kills, TX, attempt, check)


def test_erase(fast_tmp: Path, kills: int) -> None:
    """`docker logout` killed: the login is there or gone, every other one untouched."""
    env = environment(fast_tmp)
    db = Path(env["READYSTACK_DB"])
    for n in range(10):
        assert run(["store"], env, login(f"keep{n}.example", f"k{n}")).returncode == 0
    kept = logins(db)

    def prepare(i: int) -> None:
        # Outside the timed run: the random instants scale to `erase` alone.
        host = f"gone{i % 5}.example"
        if f"https://{host}" not in logins(db):
            assert run(["store"], env, login(host, f"g{i}")).returncode == 0

    def attempt(i: int, point: str | None, delay: float) -> int:
        return launch(["erase"], env, point, delay, f"gone{i % 5}.example".encode())

    def check(i: int, status: int) -> int:
        integrity(db)
        found = logins(db)
        url = f"https://gone{i % 5}.example"
        assert {u: s for u, s in found.items() if u.startswith("https://keep")} == kept
        if status == 0:
            assert url not in found
        assert get(env, "keep3.example") == {
            "ServerURL": "keep3.example",
            "Username": "me",
            "Secret": "k3",
        }
        answer = get(env, url.removeprefix("https://"))
        assert (answer or {}).get("Secret") == found.get(url)
        prepare(i + 1)
        return 4

    prepare(0)
    drive("erase", kills, TX, attempt, check)


def _add(env: dict[str, str], name: str, url: str, password: str, *more: str) -> None:
    args = ["registry", "add", name, "--url", url, "--username", "u", "--password-stdin", *more]
    proc = run(args, env, password.encode() + b"\n")
    assert proc.returncode == 0, proc.stderr


def admin_rows(db: Path) -> dict[str, tuple]:
    return {
        r["Name"]: (r["Url"], r["Username"], r["Password"], r["ImagePatterns"], r["IsDefault"])
        for r in rows(db)
    }


def test_registry_add(fast_tmp: Path, kills: int) -> None:
    """`registry add` killed: the row is whole (URL, user, password, patterns) or absent."""
    env = environment(fast_tmp)
    db = Path(env["READYSTACK_DB"])
    acked: dict[str, tuple] = {}

    def attempt(i: int, point: str | None, delay: float) -> int:
        args = ["registry", "add", f"n{i}", "--url", f"https://add{i}.example"]
        args += ["--username", f"u{i}", "--password-stdin", "--pattern", f"team{i}/*"]
        return launch(args, env, point, delay, f"p{i}\n".encode())

    def check(i: int, status: int) -> int:
        integrity(db)
        found = admin_rows(db)
        whole = (f"https://add{i}.example", f"u{i}", f"p{i}", json.dumps([f"team{i}/*"]), 0)
        assert {n: v for n, v in found.items() if n != f"n{i}"} == acked
        assert found.get(f"n{i}") in ((None, whole) if status else (whole,))
        if f"n{i}" in found:
            acked[f"n{i}"] = found[f"n{i}"]
        answer = get(env, f"add{i}.example/team{i}/app")
        assert (answer or {}).get("Secret") == (f"p{i}" if f"n{i}" in found else None)
        return 3

    drive("registry add", kills, TX, attempt, check)


def test_registry_update(fast_tmp: Path, kills: int) -> None:
    """`registry update` of password and patterns killed: both changed or neither."""
    env = environment(fast_tmp)
    db = Path(env["READYSTACK_DB"])
    _add(env, "upd", "https://upd.example", "p-start", "--pattern", "v-start/*")
    current = ["p-start", "v-start"]

    def attempt(i: int, point: str | None, delay: float) -> int:
        args = ["registry", "update", "upd", "--password-stdin", "--clear-patterns"]
        args += ["--pattern", f"v{i}/*"]
        return launch(args, env, point, delay, f"p{i}\n".encode())

    def check(i: int, status: int) -> int:
        integrity(db)
        (row,) = rows(db)
        seen = [row["Password"], json.loads(row["ImagePatterns"])]
        old = [current[0], [f"{current[1]}/*"]]
        new = [f"p{i}", [f"v{i}/*"]]
        assert seen in ([old, new] if status else [new])  # never p{i} with the old patterns
        if seen == new:
            current[:] = [f"p{i}", f"v{i}"]
        answer = get(env, f"upd.example/{current[1]}/app")
        assert (answer or {}).get("Secret") == current[0]
        return 3

    drive("registry update", kills, TX, attempt, check)


def test_registry_remove(fast_tmp: Path, kills: int) -> None:
    """`registry remove` killed: the row is whole or gone; every other row untouched."""
    env = environment(fast_tmp)
    db = Path(env["READYSTACK_DB"])
    _add(env, "keep", "https://keep.example", "kept")
    kept = admin_rows(db)

    def prepare(i: int) -> None:
        # Outside the timed run: the random instants scale to `registry remove` alone.
        name = f"r{i % 4}"
        if name not in admin_rows(db):
            _add(env, name, f"https://{name}.example", f"p{i}")

    def attempt(i: int, point: str | None, delay: float) -> int:
        return launch(["registry", "remove", f"r{i % 4}"], env, point, delay, b"")

    def check(i: int, status: int) -> int:
        integrity(db)
        found = admin_rows(db)
        assert found["keep"] == kept["keep"]
        if status == 0:
            assert f"r{i % 4}" not in found
        answer = get(env, f"r{i % 4}.example")
        assert (answer is None) == (f"r{i % 4}" not in found)
        prepare(i + 1)
        return 3

    prepare(0)
    drive("registry remove", kills, TX, attempt, check)


def test_registry_set_default(fast_tmp: Path, kills: int) -> None:
    """`registry set-default` killed: exactly one default, the old one or the new one."""
    env = environment(fast_tmp)
    db = Path(env["READYSTACK_DB"])
    _add(env, "d0", "https://docker.io", "p0", "--default")
    _add(env, "d1", "https://docker.io", "p1")
    default = ["d0"]

    def attempt(i: int, point: str | None, delay: float) -> int:
        return launch(["registry", "set-default", f"d{i % 2}"], env, point, delay, b"")

    def check(i: int, status: int) -> int:
        integrity(db)
        defaults = [n for n, v in admin_rows(db).items() if v[4]]
        assert defaults in ([default[:], [f"d{i % 2}"]] if status else [[f"d{i % 2}"]])
        default[:] = defaults
        answer = get(env, "docker.io")
        assert (answer or {}).get("Secret") == f"p{defaults[0][1]}"
        return 3

    drive("registry set-default", kills, TX, attempt, check)


@pytest.mark.parametrize("writer", ["store"])
def test_a_hot_journal_never_blinds_get(fast_tmp: Path, writer: str) -> None:
    """The live bug: a writer killed inside its commit left a hot journal; `get` answers."""
    import rawdb

    env = environment(fast_tmp)
    db = Path(env["READYSTACK_DB"])
    assert run(["store"], env, login("ghcr.io", "kept")).returncode == 0
    rawdb.leave_hot_journal(db)
    counts = tally("hot journal")
    counts["kills"] += 1
    assert get(env, "ghcr.io") == {"ServerURL": "ghcr.io", "Username": "me", "Secret": "kept"}
    assert Path(f"{db}-journal").exists()  # the reader wrote nothing: a writer rolls it back
    assert run(["store"], env, login("quay.io", "q")).returncode == 0
    assert not Path(f"{db}-journal").exists()
    integrity(db)
    assert logins(db) == {"https://ghcr.io": "kept", "https://quay.io": "q"}
    counts["checks"] += 4
