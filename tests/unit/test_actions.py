"""The protocol verbs over raw input: get, store, erase, list against a temporary database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from readystack.helper.lookup import actions, logins, protocol
from readystack.store.errors import HelperError, NotFound

HUB_V1 = "https://index.docker.io/v1/"
ACCESS = HUB_V1 + "access-token"
REFRESH = HUB_V1 + "refresh-token"

pytestmark = pytest.mark.usefixtures("no_root_config")


def store(environ: dict, server: str, username: str = "u", secret: str = "s") -> str:
    payload = {"ServerURL": server, "Username": username, "Secret": secret}
    return logins.store(json.dumps(payload).encode() + b"\n", environ)


def get(environ: dict, server: str) -> dict | None:
    try:
        return json.loads(actions.get(server.encode() + b"\n", environ))
    except NotFound:
        return None


def erase(environ: dict, server: str) -> str:
    return logins.erase(server.encode() + b"\n", environ)


def rows(environ: dict) -> list[tuple]:
    path = Path(environ["READYSTACK_DB"])
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            'SELECT "Name", "Url", "Username", "Password", "Version", "ImagePatterns", '
            '"IsDefault" FROM "Registries" ORDER BY rowid'
        ).fetchall()
    finally:
        conn.close()


def side(environ: dict) -> list[tuple]:
    conn = sqlite3.connect(environ["READYSTACK_DB"])
    try:
        return conn.execute('SELECT "Origin", "SecretStore" FROM "ReadyStackHelper"').fetchall()
    finally:
        conn.close()


# ---- store -------------------------------------------------------------------------------


def test_store_creates_login_row(environ: dict) -> None:
    assert store(environ, "ghcr.io", "alice", "pw") == ""
    assert rows(environ) == [("ghcr.io", "https://ghcr.io", "alice", "pw", 1, "[]", 0)]
    assert side(environ) == [("login", "database")]
    assert get(environ, "ghcr.io") == {"ServerURL": "ghcr.io", "Username": "alice", "Secret": "pw"}


def test_store_again_updates(environ: dict) -> None:
    store(environ, "ghcr.io", "alice", "pw1")
    store(environ, "https://GHCR.io/v2/", "bob", "pw2")
    assert rows(environ) == [("ghcr.io", "https://ghcr.io", "bob", "pw2", 2, "[]", 0)]
    assert get(environ, "ghcr.io")["Username"] == "bob"


@pytest.mark.parametrize(
    ("server", "name", "url"),
    [
        (HUB_V1, "docker.io", HUB_V1),
        ("docker.io", "docker.io", HUB_V1),
        ("index.docker.io", "docker.io", HUB_V1),
        # Not what the docker CLI means by Docker Hub: kept under the name typed, as upstream.
        ("registry-1.docker.io", "registry-1.docker.io", "https://registry-1.docker.io"),
        (
            "https://registry.hub.docker.com",
            "registry.hub.docker.com",
            "https://registry.hub.docker.com",
        ),
        ("http://localhost:5000", "localhost:5000", "http://localhost:5000"),
        ("localhost:5000", "localhost:5000", "https://localhost:5000"),
        ("https://[::1]:5000/v2/", "[::1]:5000", "https://[::1]:5000"),
        ("myregistry", "myregistry", "https://myregistry"),
    ],
)
def test_store_row_name_and_url(environ: dict, server: str, name: str, url: str) -> None:
    store(environ, server)
    assert rows(environ)[0][:2] == (name, url)
    assert get(environ, server)["Username"] == "u"


def test_hub_alias_login_is_kept_apart_and_wins_for_its_own_key(environ: dict) -> None:
    store(environ, HUB_V1, "hub-user", "pw-hub")
    store(environ, "registry-1.docker.io", "alias-user", "pw-alias")
    assert get(environ, HUB_V1)["Username"] == "hub-user"
    assert get(environ, "docker.io")["Username"] == "hub-user"
    assert get(environ, "registry-1.docker.io")["Username"] == "alias-user"
    erase(environ, "registry-1.docker.io")
    assert [r[0] for r in rows(environ)] == ["docker.io"]
    assert get(environ, "registry-1.docker.io")["Username"] == "hub-user"  # aliases still fold


def test_store_empty_secret(environ: dict) -> None:
    store(environ, "ghcr.io", "u", "")
    assert get(environ, "ghcr.io") == {"ServerURL": "ghcr.io", "Username": "u", "Secret": ""}


def test_store_never_changes_admin_rows(environ: dict, rsg: Any) -> None:
    rsg.add("ghcr.io", "https://ghcr.io", username="admin", password="apw", default=True)
    store(environ, "ghcr.io", "me", "mine")
    assert rows(environ)[0] == ("ghcr.io", "https://ghcr.io", "admin", "apw", 1, "[]", 1)
    assert rows(environ)[1][:4] == ("ghcr.io (login)", "https://ghcr.io", "me", "mine")
    assert get(environ, "ghcr.io")["Username"] == "me"  # login rows answer first


def test_store_on_readystackgo_database_refused(environ: dict, make_rsg: Any) -> None:
    db = make_rsg(Path(environ["READYSTACK_DB"]), readystackgo=True)
    db.add("Admin", "https://quay.io")
    before = Path(environ["READYSTACK_DB"]).read_bytes()
    with pytest.raises(HelperError) as info:
        store(environ, "ghcr.io")
    assert "ReadyStackGo" in str(info.value)
    assert "READYSTACK_READONLY=1" in str(info.value)
    assert Path(environ["READYSTACK_DB"]).read_bytes() == before
    with pytest.raises(HelperError):
        erase(environ, "quay.io")
    assert db.count() == 1


def test_readonly_writes_nothing(environ: dict) -> None:
    environ["READYSTACK_READONLY"] = "1"
    assert store(environ, "ghcr.io") == ""
    assert not Path(environ["READYSTACK_DB"]).exists()
    assert erase(environ, "ghcr.io") == ""


def test_readonly_on_readystackgo_database(environ: dict, make_rsg: Any) -> None:
    db = make_rsg(Path(environ["READYSTACK_DB"]), readystackgo=True)
    db.add("Admin", "https://ghcr.io")
    environ["READYSTACK_READONLY"] = "true"
    assert store(environ, "ghcr.io") == ""
    assert erase(environ, "ghcr.io") == ""
    assert db.count() == 1
    assert get(environ, "ghcr.io")["Username"] == "admin"


@pytest.mark.parametrize(
    "server", ["ghcr.io/acme/api", "mycompany/app", "localhost:5000/team/app:1.0"]
)
def test_store_repository_refused(environ: dict, server: str) -> None:
    with pytest.raises(HelperError) as info:
        store(environ, server)
    assert "repository" in str(info.value)
    assert rows(environ) == []


@pytest.mark.parametrize("server", ["ftp://x.io", "bad host", "https://"])
def test_store_invalid_server_refused(environ: dict, server: str) -> None:
    with pytest.raises(HelperError):
        store(environ, server)
    assert rows(environ) == []


def test_store_missing_username(environ: dict) -> None:
    with pytest.raises(HelperError) as info:
        logins.store(b'{"ServerURL":"ghcr.io","Secret":"s"}', environ)
    assert str(info.value) == protocol.MISSING_USERNAME


# ---- erase -------------------------------------------------------------------------------


def test_erase_deletes_only_login_rows(
    environ: dict, rsg: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    rsg.add("Admin", "https://ghcr.io")
    store(environ, "ghcr.io", "me", "mine")
    assert get(environ, "ghcr.io")["Username"] == "me"
    assert erase(environ, "https://ghcr.io/") == ""
    assert [r[0] for r in rows(environ)] == ["Admin"]
    assert get(environ, "ghcr.io")["Username"] == "admin"
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "'Admin'" in captured.err


@pytest.mark.parametrize("server", ["ghcr.io", "nothing.io", "ghcr.io/acme/api", "bad host"])
def test_erase_nothing_succeeds(environ: dict, server: str) -> None:
    assert erase(environ, server) == ""
    assert not Path(environ["READYSTACK_DB"]).exists()
    store(environ, "quay.io")
    assert erase(environ, server) == ""
    assert len(rows(environ)) == 1


def test_erase_empty_input(environ: dict) -> None:
    with pytest.raises(HelperError) as info:
        logins.erase(b"\n", environ)
    assert str(info.value) == protocol.MISSING_SERVER_URL


def test_erase_hub_by_any_name(environ: dict) -> None:
    store(environ, HUB_V1)
    erase(environ, "docker.io")
    assert rows(environ) == []


# ---- OAuth keys and identity tokens ---------------------------------------------------------


def test_oauth_keys_verbatim(environ: dict) -> None:
    store(environ, ACCESS, "hubuser", "access-jwt")
    store(environ, REFRESH, "hubuser", "refresh-jwt")
    assert get(environ, ACCESS)["Secret"] == "access-jwt"
    assert get(environ, REFRESH)["Secret"] == "refresh-jwt"
    assert get(environ, "docker.io") is None
    assert get(environ, HUB_V1) is None
    assert get(environ, "library/nginx") is None
    assert json.loads(actions.list_(environ)) == {}
    store(environ, HUB_V1, "hubuser", "pat")
    assert get(environ, HUB_V1)["Secret"] == "pat"
    assert get(environ, ACCESS)["Secret"] == "access-jwt"
    erase(environ, ACCESS)
    assert get(environ, ACCESS) is None
    assert get(environ, REFRESH)["Secret"] == "refresh-jwt"
    assert get(environ, HUB_V1)["Secret"] == "pat"
    erase(environ, HUB_V1)
    assert get(environ, REFRESH)["Secret"] == "refresh-jwt"


def test_identity_token_round_trip(environ: dict) -> None:
    store(environ, "ghcr.io", "<token>", "id-token-value")
    assert get(environ, "ghcr.io") == {
        "ServerURL": "ghcr.io",
        "Username": "<token>",
        "Secret": "id-token-value",
    }


# ---- get ----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"\n", b"", b"  \r\n"])
def test_get_empty_input(environ: dict, data: bytes) -> None:
    with pytest.raises(HelperError) as info:
        actions.get(data, environ)
    assert str(info.value) == protocol.MISSING_SERVER_URL


@pytest.mark.parametrize("server", ["bad host", "Mycompany/App", "ftp://x.io", "a//b"])
def test_get_invalid_is_not_found(environ: dict, server: str) -> None:
    with pytest.raises(NotFound):
        actions.get(server.encode(), environ)


def test_get_echoes_server_as_sent(environ: dict) -> None:
    store(environ, "ghcr.io")
    answer = get(environ, "https://GHCR.io/v2/")
    assert answer["ServerURL"] == "https://GHCR.io/v2/"


def test_get_on_missing_database_is_not_found(environ: dict) -> None:
    assert get(environ, "ghcr.io") is None
    assert not Path(environ["READYSTACK_DB"]).exists()


# ---- list ---------------------------------------------------------------------------------


def test_list_keys_are_gettable(environ: dict, rsg: Any) -> None:
    rsg.add("Hub admin", "https://registry-1.docker.io", username="hub-admin", default=True)
    rsg.add("Team", "https://quay.io", patterns=["team/*"])
    rsg.add("Nocreds", "https://nocreds.io", username=None, password=None)
    rsg.add("Broken", "::::")
    for server, user in [
        ("ghcr.io", "g"),
        ("http://localhost:5000", "l"),
        ("https://[::1]:5000", "v6"),
        ("r.io:5000", "p"),
        (ACCESS, "oauth"),
    ]:
        store(environ, server, user, f"pw-{user}")
    listed = json.loads(actions.list_(environ))
    assert listed == {
        HUB_V1: "hub-admin",
        "quay.io": "team",
        "ghcr.io": "g",
        "localhost:5000": "l",
        "[::1]:5000": "v6",
        "r.io:5000": "p",
    }
    for key, user in listed.items():
        assert get(environ, key)["Username"] == user


def test_list_never_reads_stdin_and_survives_broken_db(
    environ: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    assert actions.list_(environ) == "{}\n"
    path = Path(environ["READYSTACK_DB"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"garbage, not sqlite " * 50)
    assert actions.list_(environ) == "{}\n"
    assert capsys.readouterr().out == ""


def test_readonly_flag_values() -> None:
    for value in ["1", "true", "YES", " on "]:
        assert logins.readonly({"READYSTACK_READONLY": value})
    for value in ["", "0", "false", "no"]:
        assert not logins.readonly({"READYSTACK_READONLY": value})
