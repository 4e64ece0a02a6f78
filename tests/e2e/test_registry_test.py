"""`registry test` and `explain --online` against real registries: Basic, Bearer and TLS.

Every registry listens on 127.0.0.1 with a free port; every test also checks that no password,
identity token or bearer token reaches the output.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .registry import Registry
from .rsgdb import add_registry, create_database
from .sandbox import HELPER_NAME, Sandbox, output
from .tokenregistry import token_registry, token_server
from .tokenserver import TokenServer
from .tools import require_tool

pytestmark = pytest.mark.e2e

USERS = {"alice": "s3cret-a", "bob": "s3cret-b"}
WRONG = "wrong-password-x"
# alice may pull and push team/*, bob only other/*.
GRANTS = {"alice": ["team"], "bob": ["other"]}


def self_signed(workdir: Path, name: str, subject: str, *extra: str) -> tuple[Path, Path]:
    """An openssl self-signed certificate and its key: (NAME.pem, NAME.key)."""
    cert, key = workdir / f"{name}.pem", workdir / f"{name}.key"
    subprocess.run(
        [require_tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", subject, *extra, "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def tokens() -> Iterator[TokenServer]:
    """The token server that signs the Bearer registry's tokens."""
    with token_server(USERS, GRANTS, "rse2e-tokens-") as server:
        yield server


@pytest.fixture(scope="module")
def bearer_registry(tokens: TokenServer) -> Iterator[Registry]:
    """The CNCF registry with `auth: token`, seeded with team/app:1."""
    with token_registry(tokens, USERS, "rse2e-bearer-", "alice") as server:
        server.seed("team/app", "1")
        yield server


@pytest.fixture(scope="module")
def tls_registry() -> Iterator[Registry]:
    """The CNCF registry with htpasswd auth over HTTPS, with a self-signed certificate."""
    binary, htpasswd = require_tool("docker-registry"), require_tool("htpasswd")
    workdir = Path(tempfile.mkdtemp(prefix="rse2e-tls-"))
    server_cert = self_signed(
        workdir, "cert", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"
    )
    server = Registry(workdir, USERS, htpasswd, binary, tls=server_cert)
    try:
        server.start()
        server.seed("team/app", "1")
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def mtls_registry() -> Iterator[Registry]:
    """An HTTPS registry that also requires a client certificate."""
    binary, htpasswd = require_tool("docker-registry"), require_tool("htpasswd")
    workdir = Path(tempfile.mkdtemp(prefix="rse2e-mtls-"))
    server_cert = self_signed(
        workdir, "cert", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"
    )
    client = self_signed(workdir, "client", "/CN=readystack-e2e-client")
    server = Registry(workdir, USERS, htpasswd, binary, tls=server_cert, client=client)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def helper(sandbox: Sandbox, *args: str, env: dict[str, str] | None = None):
    """Run a management verb of the helper in the sandbox."""
    return sandbox.run([HELPER_NAME, *args], env=env, timeout=60)


def registry_test(sandbox: Sandbox, *args: str, env: dict[str, str] | None = None):
    """`registry test --json ARGS`, debug log on: (process, {name: (status, detail)})."""
    env = {"READYSTACK_LOG": "debug", **(env or {})}
    proc = helper(sandbox, "registry", "test", "--json", "--timeout", "10", *args, env=env)
    results = json.loads(proc.stdout)
    for result in results:
        assert sorted(result) == ["detail", "host", "name", "status"], result
    return proc, {r["name"]: (r["status"], r["detail"]) for r in results}


def assert_no_secret(proc: subprocess.CompletedProcess[str], *extra: str) -> None:
    """No password, identity token or bearer token in either stream."""
    text = proc.stdout + proc.stderr
    for secret in (*USERS.values(), WRONG, *extra):
        assert secret not in text, output(proc)
    assert "eyJ" not in text, output(proc)  # the start of every JWT


# ---- Basic (htpasswd) ------------------------------------------------------------------------


def test_basic_registry_good_and_wrong_password(sandbox: Sandbox) -> None:
    create_database(sandbox.db)
    url = sandbox.registry.url
    add_registry(sandbox.db, "good", url, "alice", USERS["alice"])
    add_registry(sandbox.db, "wrong", url, "alice", WRONG)
    proc, results = registry_test(sandbox)
    assert proc.returncode == 1, output(proc)
    assert results["good"][0] == "ok", results
    assert results["wrong"] == ("unauthorized", "the registry refused the credentials (HTTP 401)")
    assert_no_secret(proc)

    proc, results = registry_test(sandbox, "good", "--image", f"{sandbox.registry.host}/team/app:1")
    assert proc.returncode == 0, output(proc)
    assert results == {"good": ("ok", "team/app:1 can be pulled with these credentials")}
    assert_no_secret(proc)


def test_doctor_online_reports_wrong_credentials_as_a_problem(sandbox: Sandbox) -> None:
    create_database(sandbox.db)
    add_registry(sandbox.db, "good", sandbox.registry.url, "alice", USERS["alice"])
    add_registry(sandbox.db, "wrong", sandbox.registry.url, "bob", WRONG)
    proc = helper(sandbox, "doctor", "--online", env={"READYSTACK_LOG": "debug"})
    host = sandbox.registry.host
    assert f"ok       online: row 'good' on {host}: ok: " in proc.stdout, output(proc)
    assert f"PROBLEM  online: row 'wrong' on {host}: unauthorized: " in proc.stdout
    assert proc.returncode == 1
    assert_no_secret(proc)


def test_a_loopback_https_row_falls_back_to_plain_http_as_dockerd_does(sandbox: Sandbox) -> None:
    # `docker login 127.0.0.1:PORT` to a plain-HTTP registry works (moby: 127.0.0.0/8 is an
    # insecure registry), and the login row says https://: the check does what dockerd does.
    create_database(sandbox.db)
    add_registry(sandbox.db, "login", f"https://{sandbox.registry.host}", "alice", USERS["alice"])
    proc, results = registry_test(sandbox)
    assert results["login"] == (
        "ok",
        "the registry accepted the credentials (Basic) (over plain http://: https:// failed, "
        "and dockerd allows plain HTTP as 127.0.0.1 is a loopback address)",
    )
    assert proc.returncode == 0
    assert_no_secret(proc)


# ---- Bearer (token server) -------------------------------------------------------------------


@pytest.fixture
def bearer_rows(sandbox: Sandbox, bearer_registry: Registry, tokens: TokenServer) -> str:
    """Rows for the Bearer registry: alice, wrong password, bob, and alice's identity token."""
    create_database(sandbox.db)
    url = bearer_registry.url
    add_registry(sandbox.db, "alice", url, "alice", USERS["alice"])
    add_registry(sandbox.db, "wrong", url, "alice", WRONG)
    add_registry(sandbox.db, "bob", url, "bob", USERS["bob"])
    refresh = tokens.issue_refresh_token("alice")
    add_registry(sandbox.db, "identity", url, "<token>", refresh)
    return refresh


def test_bearer_registry_login_check(sandbox: Sandbox, bearer_rows: str) -> None:
    proc, results = registry_test(sandbox)
    assert {name: status for name, (status, _) in results.items()} == {
        "alice": "ok",
        "wrong": "unauthorized",
        "bob": "ok",
        "identity": "ok",
    }, results
    assert "refused the credentials (HTTP 401)" in results["wrong"][1]
    assert proc.returncode == 1
    assert_no_secret(proc, bearer_rows)


def test_bearer_registry_pull_access(
    sandbox: Sandbox, bearer_rows: str, bearer_registry: Registry, tokens: TokenServer
) -> None:
    host = bearer_registry.host
    tokens.requests.clear()
    proc, results = registry_test(sandbox, "--image", f"{host}/team/app:1")
    assert results["alice"] == ("ok", "team/app:1 can be pulled with these credentials")
    assert results["identity"][0] == "ok", results
    assert results["wrong"][0] == "unauthorized"
    assert results["bob"] == ("denied", "the credentials are valid but may not pull team/app")
    # The identity token went as an OAuth2 refresh-token grant, as docker sends it.
    grants = [r for r in tokens.requests if r["method"] == "POST"]
    assert {(g["grant_type"], g["user"], g["client_id"]) for g in grants} == {
        ("refresh_token", "alice", "docker")
    }
    assert "repository:team/app:pull" in {g["scope"] for g in grants}
    # The debug log names every request (the token requests too), never a secret or a query.
    assert f"registry test: POST {tokens.realm}: HTTP 200" in proc.stderr, output(proc)
    assert f"registry test: HEAD {bearer_registry.url}/v2/team/app/manifests/1" in proc.stderr
    assert "account=" not in proc.stderr
    assert_no_secret(proc, bearer_rows)

    proc, results = registry_test(sandbox, "alice", "--image", f"{host}/team/app:missing")
    assert results == {"alice": ("not-found", "team/app:missing does not exist in the registry")}
    assert proc.returncode == 1
    assert_no_secret(proc, bearer_rows)


def test_a_wrong_identity_token_is_unauthorized(
    sandbox: Sandbox, bearer_registry: Registry
) -> None:
    create_database(sandbox.db)
    add_registry(sandbox.db, "stale", bearer_registry.url, "<token>", "rt-revoked-token")
    proc, results = registry_test(sandbox)
    status, detail = results["stale"]
    assert status == "unauthorized" and "refused the identity token" in detail
    assert_no_secret(proc, "rt-revoked-token")


# ---- TLS -------------------------------------------------------------------------------------


def test_tls_registry_is_trusted_once_its_ca_is_in_certs_d(
    sandbox: Sandbox, tls_registry: Registry
) -> None:
    create_database(sandbox.db)
    add_registry(sandbox.db, "tls", tls_registry.url, "alice", USERS["alice"])
    certs_d = sandbox.root / "certs.d"
    env = {"READYSTACK_CERTS_D": str(certs_d)}
    proc, results = registry_test(sandbox, env=env)
    status, detail = results["tls"]
    assert status == "tls" and "self-signed certificate" in detail, results
    assert proc.returncode == 1
    assert_no_secret(proc)

    folder = certs_d / tls_registry.host
    folder.mkdir(parents=True)
    shutil.copy(tls_registry.workdir / "cert.pem", folder / "ca.crt")
    proc, results = registry_test(sandbox, "--image", f"{tls_registry.host}/team/app:1", env=env)
    # On a loopback address dockerd would also try plain HTTP: the detail says https:// answered.
    assert results["tls"] == (
        "ok",
        "team/app:1 can be pulled with these credentials (over https://)",
    ), results
    assert proc.returncode == 0
    assert_no_secret(proc)


def test_client_certificate_comes_from_certs_d(sandbox: Sandbox, mtls_registry: Registry) -> None:
    create_database(sandbox.db)
    add_registry(sandbox.db, "mtls", mtls_registry.url, "alice", USERS["alice"])
    certs_d = sandbox.root / "certs.d"
    folder = certs_d / mtls_registry.host
    folder.mkdir(parents=True)
    shutil.copy(mtls_registry.workdir / "cert.pem", folder / "ca.crt")
    env = {"READYSTACK_CERTS_D": str(certs_d)}
    proc, results = registry_test(sandbox, env=env)
    status, detail = results["mtls"]
    assert status == "tls" and "client certificate" in detail, results
    assert_no_secret(proc)

    shutil.copy(mtls_registry.workdir / "client.pem", folder / "client.cert")
    shutil.copy(mtls_registry.workdir / "client.key", folder / "client.key")
    proc, results = registry_test(sandbox, env=env)
    assert results["mtls"][0] == "ok", results
    assert_no_secret(proc)


# ---- explain IMAGE --online: ReadyStackGo's four causes ---------------------------------------


def explain_online(sandbox: Sandbox, image: str) -> subprocess.CompletedProcess[str]:
    """`explain IMAGE --online`: the trace, then the check and its verdict or cause."""
    env = {"READYSTACK_LOG": "debug"}
    proc = helper(sandbox, "explain", image, "--online", "--timeout", "10", env=env)
    assert_no_secret(proc)
    return proc


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The verdict or cause `explain --online` ends with."""
    return proc.stdout.strip().splitlines()[-1]


def test_explain_online_says_the_image_can_be_pulled(
    sandbox: Sandbox, bearer_registry: Registry
) -> None:
    create_database(sandbox.db)
    add_registry(sandbox.db, "alice", bearer_registry.url, "alice", USERS["alice"])
    proc = explain_online(sandbox, f"{bearer_registry.host}/team/app:1")
    assert proc.returncode == 0, output(proc)
    assert last_line(proc) == "verdict: team/app:1 can be pulled with these credentials"


def test_explain_online_cause_no_credentials_configured(
    sandbox: Sandbox, bearer_registry: Registry
) -> None:
    create_database(sandbox.db)
    add_registry(sandbox.db, "public", bearer_registry.url, None, None)  # no credentials
    proc = explain_online(sandbox, f"{bearer_registry.host}/team/app:1")
    assert proc.returncode == 1
    assert "anonymous access to team/app:1: denied: anonymous access may not pull" in proc.stdout
    assert last_line(proc) == f"cause: no credentials configured for {bearer_registry.host}"


def test_explain_online_cause_wrong_credentials(
    sandbox: Sandbox, bearer_registry: Registry
) -> None:
    create_database(sandbox.db)
    add_registry(sandbox.db, "alice", bearer_registry.url, "alice", WRONG)
    proc = explain_online(sandbox, f"{bearer_registry.host}/team/app:1")
    assert proc.returncode == 1
    assert last_line(proc).startswith("cause: wrong credentials: "), output(proc)


def test_explain_online_cause_no_pattern_matches(
    sandbox: Sandbox, bearer_registry: Registry
) -> None:
    create_database(sandbox.db)
    add_registry(sandbox.db, "other", bearer_registry.url, "alice", USERS["alice"], ["other/*"])
    proc = explain_online(sandbox, f"{bearer_registry.host}/team/app:1")
    assert proc.returncode == 1
    assert last_line(proc).startswith("cause: no pattern matches the image: "), output(proc)
    assert "'other'" in last_line(proc)


def test_explain_online_cause_image_does_not_exist(
    sandbox: Sandbox, bearer_registry: Registry
) -> None:
    create_database(sandbox.db)
    add_registry(sandbox.db, "alice", bearer_registry.url, "alice", USERS["alice"])
    proc = explain_online(sandbox, f"{bearer_registry.host}/team/app:nope")
    assert proc.returncode == 1
    assert last_line(proc) == (
        "cause: the image does not exist in the registry: team/app:nope does not exist in the "
        "registry"
    ), output(proc)
