"""READYSTACK_SECRETS=keyring: `docker login` keeps the secret in a real Secret Service."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator

import pytest
from keyringcontract import KeyringContract

from .rsgdb import registry_rows, side_rows
from .sandbox import Sandbox, output
from .secretservice import SecretService

pytestmark = pytest.mark.e2e


@pytest.fixture
def secret_service(sandbox: Sandbox) -> Iterator[SecretService]:
    """An unlocked gnome-keyring on a private session bus, wired into the sandbox env."""
    service = SecretService.for_sandbox(sandbox)
    try:
        yield service
    finally:
        service.stop()


class TestSecretServiceKeepsTheKeyringContract(KeyringContract):
    """keyring's SecretService backend on a real gnome-keyring: what MemoryKeyring stands in for."""

    @pytest.fixture
    def keyring_ready(self, secret_service: SecretService, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.address)

    def init_keyring(self) -> object:
        from keyring.backends import SecretService as backends

        backend = backends.Keyring()
        assert backend.priority > 0  # raises when the Secret Service is not reachable
        return backend


def _login(sandbox: Sandbox) -> str:
    """Client-side `docker login` as alice with secrets routed to the keyring."""
    sandbox.env["READYSTACK_SECRETS"] = "keyring"
    sandbox.use_cred_helpers()
    proc = sandbox.run(
        ["docker", "login", "-u", "alice", "--password-stdin", sandbox.registry.host],
        stdin="s3cret-a\n",
    )
    return output(proc)


def _files_containing(sandbox: Sandbox, secret: bytes) -> list[str]:
    """Sandbox files (outside the keyring's own encrypted store) that hold the secret in clear."""
    hits = []
    for path in sandbox.root.rglob("*"):
        if path.is_file() and not path.is_socket() and "keyrings" not in path.parts:
            try:
                if secret in path.read_bytes():
                    hits.append(str(path))
            except OSError:
                continue
    return hits


def test_docker_login_keeps_secret_in_secret_service(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    """With a Secret Service, the row has no Password and `get` reads the keyring."""
    text = _login(sandbox)
    assert text.startswith("rc=0"), text
    rows = registry_rows(sandbox.db)
    assert [(r["Username"], r["Password"]) for r in rows] == [("alice", None)]
    side = side_rows(sandbox.db)
    assert str(side[str(rows[0]["Id"])]["SecretStore"]).startswith("keyring:"), side
    assert _files_containing(sandbox, b"s3cret-a") == []

    answer = sandbox.get(sandbox.registry.host)
    assert answer is not None and (answer["Username"], answer["Secret"]) == ("alice", "s3cret-a")
    mark = sandbox.registry.log_mark()
    host = sandbox.registry.host
    inspect = sandbox.run(["docker", "manifest", "inspect", "--insecure", f"{host}/team/app:1"])
    assert inspect.returncode == 0, output(inspect)
    assert sandbox.registry.users_seen(mark) == {"alice"}

    logout = sandbox.run(["docker", "logout", host])
    assert logout.returncode == 0, output(logout)
    assert registry_rows(sandbox.db) == []
    assert sandbox.get(host) is None


def test_keyring_secrets_without_secret_service_store_nothing(sandbox: Sandbox) -> None:
    """Negative: with no usable keyring, `store` fails loudly and no secret lands in clear."""
    text = _login(sandbox)
    assert not text.startswith("rc=0"), text
    assert "error storing credentials" in text
    assert all(row["Password"] is None for row in registry_rows(sandbox.db))
    assert _files_containing(sandbox, b"s3cret-a") == []


def _keyring_entry(sandbox: Sandbox, row_id: str) -> str | None:
    """Read an entry straight from the Secret Service, as another program would."""
    import subprocess
    import sys

    code = (
        "import sys, keyring; from keyring.backends import SecretService; "
        "v = SecretService.Keyring().get_password('docker-credential-readystack', sys.argv[1]); "
        "print('<none>' if v is None else v)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, row_id],
        capture_output=True,
        text=True,
        env=sandbox.env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    value = proc.stdout.strip()
    return None if value == "<none>" else value


def _add(sandbox: Sandbox, name: str, password: str, *extra: str) -> None:
    proc = sandbox.run(
        [
            HELPER,
            "registry",
            "add",
            name,
            "--url",
            f"http://{sandbox.registry.host}",
            "--username",
            "alice",
            "--password-stdin",
            *extra,
        ],
        stdin=password + "\n",
    )
    assert proc.returncode == 0, output(proc)


HELPER = "docker-credential-readystack"


def test_move_secrets_both_ways_and_survives_interruption(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    """Database -> keyring (killed between the steps, then again) -> database; nothing lost."""
    _add(sandbox, "reg", "s3cret-a")
    (row,) = registry_rows(sandbox.db)
    row_id = str(row["Id"])

    # The kill point (store/faultpoint.py) is inert in the PyInstaller binary by design.
    if not os.environ.get("READYSTACK_HELPER_EXE"):
        killed = sandbox.run(
            [HELPER, "registry", "move-secrets", "--to", "keyring"],
            env={"READYSTACK_TEST_FAULT_POINT": "after-new-secret"},
        )
        assert killed.returncode == -signal.SIGKILL, output(killed)
        # Killed after the keyring write: the database still holds the password and answers.
        assert registry_rows(sandbox.db)[0]["Password"] == "s3cret-a"
        assert sandbox.get(sandbox.registry.host) == {
            "ServerURL": sandbox.registry.host,
            "Username": "alice",
            "Secret": "s3cret-a",
        }

    moved = sandbox.run([HELPER, "registry", "move-secrets", "--to", "keyring"])
    assert moved.returncode == 0, output(moved)
    assert registry_rows(sandbox.db)[0]["Password"] is None
    assert _keyring_entry(sandbox, row_id) == "s3cret-a"
    assert _files_containing(sandbox, b"s3cret-a") == []
    assert sandbox.get(sandbox.registry.host)["Secret"] == "s3cret-a"  # type: ignore[index]
    mark = sandbox.registry.log_mark()
    sandbox.use_cred_helpers()
    inspect = sandbox.run(
        ["docker", "manifest", "inspect", "--insecure", f"{sandbox.registry.host}/team/app:1"]
    )
    assert inspect.returncode == 0, output(inspect)
    assert sandbox.registry.users_seen(mark) == {"alice"}

    back = sandbox.run([HELPER, "registry", "move-secrets", "--to", "database"])
    assert back.returncode == 0, output(back)
    assert registry_rows(sandbox.db)[0]["Password"] == "s3cret-a"
    assert _keyring_entry(sandbox, row_id) is None
    assert sandbox.get(sandbox.registry.host)["Secret"] == "s3cret-a"  # type: ignore[index]


def test_missing_keyring_entry_is_not_found_and_doctor_reports_it(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    """A keyring row whose entry vanished answers not-found with one stderr line."""
    sandbox.env["READYSTACK_SECRETS"] = "keyring"
    _add(sandbox, "reg", "s3cret-a")
    (row,) = registry_rows(sandbox.db)
    assert _keyring_entry(sandbox, str(row["Id"])) == "s3cret-a"
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from keyring.backends import SecretService; "
            "SecretService.Keyring().delete_password('docker-credential-readystack', sys.argv[1])",
            str(row["Id"]),
        ],
        env=sandbox.env,
        check=True,
        timeout=60,
    )
    proc = sandbox.helper("get", sandbox.registry.host)
    assert (proc.returncode, proc.stdout) == (1, "credentials not found in native keychain\n")
    assert proc.stderr.count("\n") == 1 and "keyring entry is missing" in proc.stderr
    doctor = sandbox.run([HELPER, "doctor"])
    assert doctor.returncode == 1
    assert "keyring entry is missing" in doctor.stdout
    assert "keyring.backends.SecretService.Keyring is ready for writes" in doctor.stdout

    removed = sandbox.run([HELPER, "registry", "remove", "reg"])
    assert removed.returncode == 0, output(removed)
    assert registry_rows(sandbox.db) == []


def test_store_get_list_erase_through_the_keyring(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    """The protocol round trip with READYSTACK_SECRETS=keyring; erase removes the entry."""
    import json

    sandbox.env["READYSTACK_SECRETS"] = "keyring"
    host = sandbox.registry.host
    payload = json.dumps({"ServerURL": host, "Username": "bob", "Secret": "s3cret-b"})
    stored = sandbox.helper("store", payload)
    assert stored.returncode == 0, output(stored)
    (row,) = registry_rows(sandbox.db)
    assert row["Password"] is None
    assert sandbox.get(host)["Secret"] == "s3cret-b"  # type: ignore[index]
    listed = sandbox.helper("list")
    assert json.loads(listed.stdout) == {host: "bob"}
    erased = sandbox.helper("erase", host)
    assert erased.returncode == 0, output(erased)
    assert _keyring_entry(sandbox, str(row["Id"])) is None
    assert sandbox.get(host) is None


def _item_hosts(sandbox: Sandbox, row_id: str) -> list[str | None]:
    """The `host` attribute of every Secret Service item for a row, read over D-Bus directly."""
    import subprocess
    import sys

    code = (
        "import sys, secretstorage; c = secretstorage.get_default_collection("
        "secretstorage.dbus_init()); print(repr([i.get_attributes().get('host') for i in "
        "c.search_items({'service': 'docker-credential-readystack', 'username': sys.argv[1]})]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, row_id],
        capture_output=True,
        text=True,
        env=sandbox.env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    import ast

    return list(ast.literal_eval(proc.stdout.strip()))


def _copy_with_url(sandbox: Sandbox, url: str) -> str:
    """A copy of the database whose only row now claims another registry URL."""
    import shutil
    import sqlite3

    copy = sandbox.root / "copy.db"
    shutil.copyfile(sandbox.db, copy)
    with sqlite3.connect(copy) as db:
        db.execute('UPDATE "Registries" SET "Url" = ?', (url,))
    db.close()
    return str(copy)


def test_keyring_entry_is_bound_to_the_rows_host(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    """A copy of the database whose Url names another host gets no secret from the keyring."""
    sandbox.env["READYSTACK_SECRETS"] = "keyring"
    _add(sandbox, "reg", "s3cret-a")
    (row,) = registry_rows(sandbox.db)
    host = sandbox.registry.host
    assert _item_hosts(sandbox, str(row["Id"])) == [host]

    copy = _copy_with_url(sandbox, "https://evil.example")
    proc = sandbox.run([HELPER, "get"], stdin="evil.example", env={"READYSTACK_DB": copy})
    assert (proc.returncode, proc.stdout) == (1, "credentials not found in native keychain\n")
    assert proc.stderr == (
        f"docker-credential-readystack: skipping registry 'reg': its keyring entry belongs to "
        f"host {host}, not evil.example\n"
    )
    doctor = sandbox.run([HELPER, "doctor"], env={"READYSTACK_DB": copy})
    assert f"its keyring entry belongs to host {host}, not evil.example" in doctor.stdout
    assert sandbox.get(host)["Secret"] == "s3cret-a"  # type: ignore[index]

    # An administrator moving the row moves the binding with it.
    port = host.rsplit(":", 1)[1]
    moved = sandbox.run([HELPER, "registry", "update", "reg", "--url", f"http://localhost:{port}"])
    assert moved.returncode == 0, output(moved)
    assert _item_hosts(sandbox, str(row["Id"])) == [f"localhost:{port}"]
    assert sandbox.get(f"localhost:{port}")["Secret"] == "s3cret-a"  # type: ignore[index]


def test_unbound_entry_answers_with_a_warning_until_move_secrets_binds_it(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    """An entry written by an older version (no host) keeps working and is bound on request."""
    import sqlite3
    import subprocess
    import sys

    _add(sandbox, "reg", "s3cret-a")
    (row,) = registry_rows(sandbox.db)
    row_id, host = str(row["Id"]), sandbox.registry.host
    # What the previous version wrote: keyring's plain set_password under the row's Id.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from keyring.backends import SecretService; SecretService.Keyring()"
            ".set_password('docker-credential-readystack', sys.argv[1], 's3cret-a')",
            row_id,
        ],
        env=sandbox.env,
        check=True,
        timeout=60,
    )
    with sqlite3.connect(sandbox.db) as db:
        db.execute('UPDATE "Registries" SET "Password" = NULL')
        db.execute(
            'CREATE TABLE IF NOT EXISTS "ReadyStackHelper" ("RegistryId" TEXT NOT NULL PRIMARY '
            'KEY, "Origin" TEXT NOT NULL, "SecretStore" TEXT NOT NULL)'
        )
        db.execute(
            'INSERT OR REPLACE INTO "ReadyStackHelper" VALUES (?, ?, ?)',
            (row_id, "admin", "keyring:keyring.backends.SecretService.Keyring"),
        )
    db.close()
    assert _item_hosts(sandbox, row_id) == [None]

    proc = sandbox.helper("get", host)
    assert json.loads(proc.stdout)["Secret"] == "s3cret-a"
    assert proc.stderr == (
        f"docker-credential-readystack: registry 'reg': its keyring entry is not bound to {host} "
        "yet; run `registry move-secrets --to keyring` to bind it\n"
    )
    doctor = sandbox.run([HELPER, "doctor"])
    assert doctor.returncode == 1
    assert f"its keyring entry is not bound to {host}" in doctor.stdout

    bound = sandbox.run([HELPER, "registry", "move-secrets", "--to", "keyring"])
    assert bound.returncode == 0, output(bound)
    assert bound.stdout == f"reg: keyring entry bound to {host}\nmoved 1 secret(s) to the keyring\n"
    assert _item_hosts(sandbox, row_id) == [host]
    proc = sandbox.helper("get", host)
    assert (json.loads(proc.stdout)["Secret"], proc.stderr) == ("s3cret-a", "")
    again = sandbox.run([HELPER, "registry", "move-secrets", "--to", "keyring"])
    assert again.stdout == "moved 0 secret(s) to the keyring\n"
    copy = _copy_with_url(sandbox, "https://evil.example")
    stolen = sandbox.run([HELPER, "get"], stdin="evil.example", env={"READYSTACK_DB": copy})
    assert stolen.stdout == "credentials not found in native keychain\n"


NO_COLLECTION = (
    "docker-credential-readystack: the Secret Service has no default collection (keyring) to "
    "write to, and creating one needs a password prompt, which cannot be shown here "
    "(gnome-keyring unlocked with an empty password creates none); create it once in a desktop "
    "session (Passwords and Keys), or start gnome-keyring-daemon --unlock with a non-empty "
    "password on its stdin, or use READYSTACK_SECRETS=database\n"
)


def test_keyring_without_default_collection_names_the_real_cause(sandbox: Sandbox) -> None:
    """gnome-keyring unlocked with an empty password: running, but no collection to write to."""
    service = SecretService.for_sandbox(sandbox, password=b"")
    try:
        proc = sandbox.run(
            [
                HELPER,
                "registry",
                "add",
                "k",
                "--url",
                "ghcr.io",
                "--username",
                "u",
                "--password-stdin",
                "--secret-store",
                "keyring",
            ],
            stdin="s3cret-k\n",
        )
        # Asked for with --secret-store keyring: the flag's fix, not the variable's.
        flagged = NO_COLLECTION.replace("READYSTACK_SECRETS=database", "--secret-store database")
        assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", flagged)
        assert not sandbox.db.exists() or registry_rows(sandbox.db) == []
        sandbox.env["READYSTACK_SECRETS"] = "keyring"
        doctor = sandbox.run([HELPER, "doctor"])
        assert doctor.returncode == 1
        assert "PROBLEM  " + NO_COLLECTION[len(HELPER) + 2 :] in doctor.stdout
        assert " works" not in doctor.stdout and "ready for writes" not in doctor.stdout
    finally:
        service.stop()


def test_move_to_database_without_dbus_does_not_suggest_what_is_in_use(sandbox: Sandbox) -> None:
    """Secrets already in a keyring can only come back from it: say so, nothing else."""
    _add(sandbox, "reg", "s3cret-a")
    (row,) = registry_rows(sandbox.db)
    import sqlite3

    with sqlite3.connect(sandbox.db) as db:  # as a keyring write on another session left it
        db.execute(
            'CREATE TABLE IF NOT EXISTS "ReadyStackHelper" ("RegistryId" TEXT NOT NULL PRIMARY '
            'KEY, "Origin" TEXT NOT NULL, "SecretStore" TEXT NOT NULL)'
        )
        db.execute(
            'INSERT INTO "ReadyStackHelper" VALUES (?, ?, ?)',
            (row["Id"], "admin", "keyring:keyring.backends.SecretService.Keyring"),
        )
        db.execute('UPDATE "Registries" SET "Password" = NULL')
    sandbox.env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    proc = sandbox.run([HELPER, "registry", "move-secrets", "--to", "database"])
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.startswith("docker-credential-readystack: 'reg': no Secret Service answers")
    assert proc.stderr.endswith(
        "the secret is only in that keyring: run this where its Secret Service answers (the "
        "D-Bus session of the user who stored it)\n"
    )
    assert "READYSTACK_SECRETS" not in proc.stderr
