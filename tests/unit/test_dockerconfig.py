"""Docker config files as a fallback: auths matching and decoding, credHelpers/credsStore order,
delegation to other helpers (fake `docker-credential-*` scripts)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from readystack.store import dockerconfig
from readystack.store.verberrors import ConfigError

HUB_V1 = "https://index.docker.io/v1/"


def b64(text: str | bytes) -> str:
    return base64.b64encode(text if isinstance(text, bytes) else text.encode()).decode()


def config(tmp_path: Path, data: object, name: str = "config.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def creds(path: str, host: str, environ: dict | None = None) -> tuple[str, str] | None:
    found = dockerconfig.lookup(path, host, environ or {"PATH": "/usr/bin:/bin"})
    return None if found is None else (found.username, found.secret)


# ---- auths matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("ghcr.io", "ghcr.io"),
        ("https://ghcr.io", "ghcr.io"),
        ("https://ghcr.io/v1/", "ghcr.io"),
        ("https://ghcr.io/v2/", "ghcr.io"),
        ("http://r.io:5000", "r.io:5000"),
        ("r.io:5000", "r.io:5000"),
        ("localhost:5000", "localhost:5000"),
        ("GHCR.IO", "ghcr.io"),
        (HUB_V1, "docker.io"),
        ("docker.io", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("https://index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
    ],
)
def test_auths_key_matches(tmp_path: Path, key: str, host: str) -> None:
    path = config(tmp_path, {"auths": {key: {"auth": b64("u:p")}}})
    assert creds(path, host) == ("u", "p")


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("r.io:5000", "r.io"),
        ("r.io", "r.io:5000"),
        ("http://r.io:5000", "r.io:5001"),
        ("ghcr.io.evil.com", "ghcr.io"),
        ("docker.io", "ghcr.io"),
        (HUB_V1 + "access-token", "docker.io"),
        ("ftp://ghcr.io", "ghcr.io"),
    ],
)
def test_auths_key_does_not_match(tmp_path: Path, key: str, host: str) -> None:
    path = config(tmp_path, {"auths": {key: {"auth": b64("u:p")}}})
    assert creds(path, host) is None


def test_exact_key_before_other_spellings(tmp_path: Path) -> None:
    data = {"auths": {"docker.io": {"auth": b64("alias:p")}, HUB_V1: {"auth": b64("v1:p")}}}
    assert creds(config(tmp_path, data), "docker.io") == ("v1", "p")


# ---- auths decoding -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"auth": b64("user:pass")}, ("user", "pass")),
        ({"auth": b64("user:pa:ss:")}, ("user", "pa:ss:")),
        ({"auth": b64("user:")}, ("user", "")),
        ({"auth": b64("user:pass\x00\x00")}, ("user", "pass")),
        ({"auth": b64("user:pass").rstrip("=")}, ("user", "pass")),
        ({"auth": b64("us\u00e9r:p\u00e4ss")}, ("us\u00e9r", "p\u00e4ss")),
        ({"identitytoken": "tok"}, ("<token>", "tok")),
        ({"auth": b64("user:pass"), "identitytoken": "tok"}, ("<token>", "tok")),
        ({"username": "plain", "password": "pw"}, ("plain", "pw")),
        ({"username": "plain", "password": ""}, ("plain", "")),
        ({"auth": b64("user:pass"), "email": "x@y", "HttpHeaders": {}}, ("user", "pass")),
        ({"auth": "", "username": "plain", "password": "pw"}, ("plain", "pw")),
    ],
)
def test_auth_entry_decoding(tmp_path: Path, entry: dict, expected: tuple) -> None:
    path = config(tmp_path, {"auths": {"ghcr.io": entry}})
    assert creds(path, "ghcr.io") == expected


@pytest.mark.parametrize(
    "entry",
    [
        {},
        {"auth": b64("nocolon")},
        {"auth": b64(":pass")},
        {"auth": "!!!not base64!!!"},
        {"auth": b64(b"\xff\xfe:x")},
        {"auth": 42},
        {"identitytoken": ""},
        {"username": "", "password": "p"},
        {"username": "u"},
        {"username": 1, "password": "p"},
        "a string",
        None,
        [],
    ],
)
def test_auth_entries_without_credentials(tmp_path: Path, entry: object) -> None:
    path = config(tmp_path, {"auths": {"ghcr.io": entry}})
    assert creds(path, "ghcr.io") is None


@pytest.mark.parametrize(
    "text", ["{not json", "[]", '"str"', "null", "1", "\xff", '{"auths": {}} trailing']
)
def test_malformed_config_raises(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError):
        dockerconfig.lookup(str(path), "ghcr.io", {})


@pytest.mark.parametrize("text", ["", "\ufeff{}", '{"auths": null}', '{"auths": []}'])
def test_empty_or_odd_configs_answer_nothing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(text, encoding="utf-8")
    assert creds(str(path), "ghcr.io") is None


def test_unreadable_config_raises(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        dockerconfig.lookup(str(tmp_path), "ghcr.io", {})  # a directory


def test_existing_files_dedupes(tmp_path: Path) -> None:
    real = Path(config(tmp_path, {}))
    link = tmp_path / "link.json"
    link.symlink_to(real)
    candidates = [(str(tmp_path / "missing.json"), "a"), (str(link), "b"), (str(real), "c")]
    assert dockerconfig.existing_files(candidates) == [(str(link), "b")]


# ---- delegation ------------------------------------------------------------------------------

SCRIPTS = {
    "good": 'cat > "$LOG_DIR/good.in"; echo "$READYSTACK_DELEGATED" > "$LOG_DIR/good.env"\n'
    'echo \'{"ServerURL":"x","Username":"good-user","Secret":"good-secret"}\'',
    "notfound": 'echo "credentials not found in native keychain"; exit 1',
    "empty": 'echo \'{"ServerURL":"","Username":"","Secret":""}\'',
    "hang": "exec sleep 20",
    "junk": "echo 'this is not json'",
    "fails": "echo 'boom' ; exit 3",
    "array": "echo '[1, 2]'",
    "spaced": 'printf \'\\n  { "Username" : "spaced", "Secret" : "s" }  trailing\\n\'',
    "readystack": 'touch "$LOG_DIR/readystack-ran"\n'
    'echo \'{"ServerURL":"x","Username":"self","Secret":"self"}\'',
}


@pytest.fixture
def helpers(tmp_path: Path) -> dict[str, str]:
    """A PATH holding fake helpers, and LOG_DIR where they leave their traces."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, body in SCRIPTS.items():
        script = bindir / f"docker-credential-{name}"
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    logs = tmp_path / "logs"
    logs.mkdir()
    return {"PATH": f"{bindir}:/usr/bin:/bin", "LOG_DIR": str(logs)}


def delegate_to(tmp_path: Path, environ: dict, host: str, **settings: object) -> tuple | None:
    return creds(config(tmp_path, settings), host, environ)


@pytest.mark.parametrize("setting", ["credHelpers", "credsStore"])
def test_a_delegated_helper_answers_through_cred_helpers_or_creds_store(
    tmp_path: Path, helpers: dict, setting: str
) -> None:
    value = {"ghcr.io": "good"} if setting == "credHelpers" else "good"
    assert delegate_to(tmp_path, helpers, "ghcr.io", **{setting: value}) == (
        "good-user",
        "good-secret",
    )


def test_delegate_gets_marker_and_server(tmp_path: Path, helpers: dict) -> None:
    logs = Path(helpers["LOG_DIR"])
    assert delegate_to(tmp_path, helpers, "ghcr.io", credsStore="good")
    assert (logs / "good.in").read_text() == "ghcr.io"
    assert (logs / "good.env").read_text().strip() == "1"
    assert delegate_to(tmp_path, helpers, "docker.io", credHelpers={"docker.io": "good"})
    assert (logs / "good.in").read_text() == HUB_V1
    assert delegate_to(tmp_path, helpers, "r.io:5000", credHelpers={"http://r.io:5000": "good"})
    assert (logs / "good.in").read_text() == "r.io:5000"


def test_delegate_answer_names_the_helper_it_came_from(tmp_path: Path, helpers: dict) -> None:
    found = dockerconfig.lookup(config(tmp_path, {"credsStore": "good"}), "ghcr.io", helpers)
    assert found is not None and "docker-credential-good" in found.source


AUTHS = {"ghcr.io": {"auth": b64("file-user:file-pw")}}


@pytest.mark.parametrize("name", ["notfound", "empty", "junk", "fails", "array", "missing"])
def test_delegate_without_answer_moves_on(tmp_path: Path, helpers: dict, name: str) -> None:
    assert delegate_to(tmp_path, helpers, "ghcr.io", credsStore=name, auths=AUTHS) == (
        "file-user",
        "file-pw",
    )


def test_delegate_answer_parsed_leniently(tmp_path: Path, helpers: dict) -> None:
    assert delegate_to(tmp_path, helpers, "ghcr.io", credsStore="spaced") == ("spaced", "s")


def test_hanging_delegate_times_out(
    tmp_path: Path, helpers: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dockerconfig, "DELEGATE_TIMEOUT", 0.5)
    start = time.monotonic()
    got = delegate_to(tmp_path, helpers, "ghcr.io", credsStore="hang", auths=AUTHS)
    assert time.monotonic() - start < 3
    assert got == ("file-user", "file-pw")


def test_order_helpers_store_auths(tmp_path: Path, helpers: dict) -> None:
    both = {"credHelpers": {"ghcr.io": "good"}, "credsStore": "spaced", "auths": AUTHS}
    assert delegate_to(tmp_path, helpers, "ghcr.io", **both) == ("good-user", "good-secret")
    both["credHelpers"] = {"ghcr.io": "notfound"}
    assert delegate_to(tmp_path, helpers, "ghcr.io", **both) == ("spaced", "s")
    both["credsStore"] = "empty"
    assert delegate_to(tmp_path, helpers, "ghcr.io", **both) == ("file-user", "file-pw")


def test_cred_helpers_for_other_host_ignored(tmp_path: Path, helpers: dict) -> None:
    got = delegate_to(tmp_path, helpers, "ghcr.io", credHelpers={"quay.io": "good"}, auths=AUTHS)
    assert got == ("file-user", "file-pw")


@pytest.mark.parametrize(
    "settings",
    [
        {"credsStore": "readystack"},
        {"credHelpers": {"ghcr.io": "readystack"}},
        {"credHelpers": {"ghcr.io": "readystack"}, "credsStore": "readystack"},
    ],
)
def test_never_delegates_to_itself(tmp_path: Path, helpers: dict, settings: dict) -> None:
    assert delegate_to(tmp_path, helpers, "ghcr.io", **settings) is None
    assert not (Path(helpers["LOG_DIR"]) / "readystack-ran").exists()


@pytest.mark.parametrize(
    "name", ["../bin/docker-credential-good", "x/good", "/bin/sh", "..", ".", "a\\b", "", 5]
)
def test_bad_helper_names_refused(tmp_path: Path, helpers: dict, name: object) -> None:
    got = delegate_to(tmp_path, helpers, "ghcr.io", credsStore=name, auths=AUTHS)
    assert got == ("file-user", "file-pw")


def test_no_delegation_when_already_delegated(tmp_path: Path, helpers: dict) -> None:
    environ = {**helpers, "READYSTACK_DELEGATED": "1"}
    got = delegate_to(tmp_path, environ, "ghcr.io", credsStore="good", auths=AUTHS)
    assert got == ("file-user", "file-pw")
    assert not (Path(helpers["LOG_DIR"]) / "good.in").exists()


def test_delegation_never_prints_to_stdout(
    tmp_path: Path, helpers: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ["junk", "fails", "missing", "a/b"]:
        delegate_to(tmp_path, helpers, "ghcr.io", credsStore=name)
    assert capsys.readouterr().out == ""
