"""Management verbs on files an adversary may have written (issue 13, items 8, 9, 11 and 12)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import rawdb

from .conftest import Run

NOT_FOUND = b"credentials not found in native keychain\n"
PROG = b"docker-credential-readystack: "
HANG_GUARD = 60
NOBODY = 65534


# ---- 8. root editing a user's Docker config ---------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_configure_docker_as_root_keeps_the_users_owner_group_and_mode(
    run: Run, env: dict[str, str]
) -> None:
    folder = Path(env["DOCKER_CONFIG"])
    folder.mkdir()
    config = folder / "config.json"
    config.write_text(json.dumps({"auths": {}, "psFormat": "table"}))
    os.chown(config, NOBODY, NOBODY)
    config.chmod(0o640)
    proc = run("configure-docker", "--registries", "ghcr.io")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    info = config.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (NOBODY, NOBODY, 0o640)
    data = json.loads(config.read_text())
    assert data["credHelpers"] == {"ghcr.io": "readystack"}
    assert data["psFormat"] == "table"


# ---- 9. a database others can read -----------------------------------------------------------


def test_registry_add_warns_once_and_doctor_reports_a_database_others_can_read(
    run: Run, env: dict[str, str]
) -> None:
    db = Path(env["READYSTACK_DB"])
    rawdb.make(db)
    db.chmod(0o644)
    proc = run("registry", "add", "g", "--url", "ghcr.io", "--username", "u", "--password-stdin",
               stdin=b"pw\n")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"added registry 'g' for ghcr.io (https://, as no scheme was given)\n"
    warning = (
        PROG + f"{db} has mode 0644: others can read the passwords in it; chmod 600 it".encode()
    )
    assert proc.stderr.splitlines()[0] == warning
    assert proc.stderr.count(b"others can read") == 1
    doctor = run("doctor")
    assert doctor.returncode == 1
    assert f"PROBLEM  {db} has mode 0644".encode() in doctor.stdout


# ---- 11. pattern cost ----------------------------------------------------------------------


def test_registry_add_refuses_patterns_lookups_would_skip(run: Run, env: dict[str, str]) -> None:
    many = "*a" * 17 + "*"
    proc = run("registry", "add", "g", "--url", "ghcr.io", "--pattern", many)
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert proc.stderr == PROG + f"refused: pattern {many!r} has more than 16 wildcards\n".encode()
    patterns = [arg for i in range(101) for arg in ("--pattern", f"team{i}/*")]
    proc = run("registry", "add", "g", "--url", "ghcr.io", *patterns)
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert proc.stderr == PROG + b"refused: a row has at most 100 patterns\n"
    assert not Path(env["READYSTACK_DB"]).exists()


def test_a_row_of_costly_patterns_is_skipped_and_doctor_reports_it(
    run: Run, env: dict[str, str]
) -> None:
    db = env["READYSTACK_DB"]
    rawdb.make(db)
    # As many as fit ReadyStackGo's 4000 characters: a longer cell skips the whole row.
    costly = ["*a" * 40 + f"*z{i}" for i in range(40)]
    assert len(json.dumps(costly)) <= 4000
    rawdb.insert(db, "P", "costly", "https://ghcr.io", patterns=json.dumps(costly))
    rawdb.insert(db, "M", "many", "https://quay.io", patterns=json.dumps(
        [f"team{i}/*" for i in range(150)]))  # fmt: skip
    rawdb.insert(db, "H", "plain", "https://ghcr.io", "carol", "pw-c")
    name = b"ghcr.io/" + b"/".join([b"a" * 60] * 3) + b"/b"
    proc = run("get", stdin=name, timeout=HANG_GUARD)
    # No costly pattern is tried: the row for the whole host answers.
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert json.loads(proc.stdout)["Username"] == "carol"
    # The first 100 patterns of a row are used; the 101st and later are not.
    assert json.loads(run("get", stdin=b"quay.io/team99/app").stdout)["Username"] == "alice"
    assert run("get", stdin=b"quay.io/team120/app").stdout == NOT_FOUND
    doctor = run("doctor", timeout=HANG_GUARD)
    assert doctor.returncode == 1
    assert doctor.stdout.count(b"has more than 16 wildcards") == 40
    assert b"row 'many': 150 patterns; only the first 100 are used" in doctor.stdout


# ---- 12. escape sequences stored in the database ---------------------------------------------


def test_registry_list_and_show_escape_control_characters(run: Run, env: dict[str, str]) -> None:
    db = env["READYSTACK_DB"]
    rawdb.make(db)
    rawdb.insert(db, "E", "evil\x1b[2J", "https://ghcr.io/\x1b]0;pwned\x07", "bob\r\nroot")
    listed = run("registry", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith(
        b"evil\\x1b[2J  https://ghcr.io/\\x1b]0;pwned\\x07  user=bob\\r\\nroot  "
    )
    shown = run("registry", "show", "evil\x1b[2J")
    assert shown.returncode == 0, shown.stderr
    for out in (listed.stdout, shown.stdout):
        assert not any(byte < 0x20 and byte != 0x0A for byte in out), out
        assert b"\x7f" not in out
    assert b"name          evil\\x1b[2J\n" in shown.stdout
    assert b"username      bob\\r\\nroot\n" in shown.stdout
    as_json = json.loads(run("registry", "list", "--json").stdout)
    assert as_json[0]["name"] == "evil\x1b[2J"  # JSON escapes them itself, and keeps the value
