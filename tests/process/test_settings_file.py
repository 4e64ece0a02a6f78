"""The database found with no READYSTACK_* variable: the config file and ReadyStackGo's settings."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from readystackgo import create_readystackgo_database, insert_registry

from .conftest import Run


def _database(path: Path) -> Path:
    create_readystackgo_database(path)
    conn = sqlite3.connect(path)
    insert_registry(conn, "ghcr", "https://ghcr.io", "acme", "from-" + path.parent.name)
    conn.commit()
    conn.close()
    return path


def _config(env: dict[str, str], text: str) -> Path:
    path = Path(env["HOME"]) / ".config" / "docker-credential-readystack" / "config"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_get_uses_the_config_files_database_and_skips_bad_lines(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    del env["READYSTACK_DB"]
    _database(tmp_path / "cfg" / "readystackgo.db")
    config = _config(
        env, f"# written by hand\nnonsense\ndatabase = {tmp_path}/cfg/readystackgo.db\n"
    )
    proc = run("get", stdin=b"ghcr.io")
    assert proc.returncode == 0 and proc.stderr == b""
    assert json.loads(proc.stdout)["Secret"] == "from-cfg"
    doctor = run("doctor")
    assert f"chosen by database in {config}".encode() in doctor.stdout
    assert f"PROBLEM  {config} line 2: expected 'key = value'; line skipped".encode() in (
        doctor.stdout
    )


def test_readystackgo_connection_string_wins_over_datapath_and_config(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    del env["READYSTACK_DB"]
    for name in ("cs", "dp", "cfg"):
        _database(tmp_path / name / "readystackgo.db")
    _config(env, f"database = {tmp_path}/cfg/readystackgo.db\n")
    connection = f"Foreign Keys=True;data source = '{tmp_path}/cs/readystackgo.db';Cache=Shared"
    datapath = str(tmp_path / "dp")
    answers = {
        "cs": run(
            "get", stdin=b"ghcr.io", ConnectionStrings__ReadyStackGo=connection, DataPath=datapath
        ),
        "dp": run("get", stdin=b"ghcr.io", DataPath=datapath),
        "cfg": run("get", stdin=b"ghcr.io"),
    }
    assert {k: json.loads(p.stdout)["Secret"] for k, p in answers.items()} == {
        "cs": "from-cs",
        "dp": "from-dp",
        "cfg": "from-cfg",
    }
