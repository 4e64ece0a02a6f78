"""`get`'s direct D-Bus read of a Secret Service item against keyring's own read, on gnome-keyring.

keyring writes (secrets.put, keyring's set_password, secretstorage) and the fast path
(store/secretservice.py) reads; every case is also read through keyring's backend
(secrets._read_explained) and the two must agree: the same item, the same miss, the same message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest
from keyringcontract import DIFFICULT, UNICODE
from readystack.store import secrets, secretservice, verberrors
from readystack.store.secrets import SecretStoreError

from .rsgdb import registry_rows
from .sandbox import Sandbox, output
from .secretservice import SecretService
from .tools import require_tool, stop_process

pytestmark = pytest.mark.e2e

LABEL = secrets.KEYRING_PREFIX + "keyring.backends.SecretService.Keyring"
HOST = "r.example.com"
HELPER = "docker-credential-readystack"


def _through_keyring(row_id: str, host: str) -> tuple[str | None, bool] | str:
    """keyring's read of a row (what `get` did before): the answer, or the error's message."""
    try:
        return secrets._read_explained(secrets.backend_for(LABEL), row_id, host)
    except SecretStoreError as exc:
        return f"{type(exc).__name__}: {exc}"


def _through_get(row_id: str, host: str) -> tuple[str | None, bool] | str:
    """secrets.get (the fast path where it decides): the answer, or the error's message."""
    try:
        return secrets.get(LABEL, row_id, host)
    except SecretStoreError as exc:
        return f"{type(exc).__name__}: {exc}"


def _fast(row_id: str, host: str) -> tuple[str, bool] | None:
    """The fast path alone (raises NotServed where it leaves the case to keyring)."""
    return secretservice.read(secrets._query(row_id), lambda a: secrets._owned_by(a, host))


def _put(row_id: str, host: str, secret: str) -> None:
    assert secrets.put(secrets.write_backend(), row_id, host, secret) == LABEL


def _keyring_backend() -> object:
    from keyring.backends import SecretService as backends

    return backends.Keyring()


@pytest.mark.parametrize(
    "secret",
    ["s3cret", "", "pass word " + DIFFICULT, UNICODE, "x" * 4096],
    ids=["plain", "empty", "difficult", "unicode", "long"],
)
def test_keyring_writes_and_the_fast_path_reads(bus: SecretService, secret: str) -> None:
    _put("ROW-1", HOST, secret)
    assert _fast("ROW-1", HOST) == (secret, True)
    assert _through_get("ROW-1", HOST) == _through_keyring("ROW-1", HOST) == (secret, True)


def test_an_entry_written_before_host_binding_reads_as_unbound(bus: SecretService) -> None:
    _keyring_backend().set_password(secrets.SERVICE, "ROW-1", "old")  # type: ignore[attr-defined]
    assert _fast("ROW-1", HOST) == ("old", False)
    assert _through_get("ROW-1", HOST) == _through_keyring("ROW-1", HOST) == ("old", False)


def test_an_item_bound_to_another_host_is_refused_alike(bus: SecretService) -> None:
    _put("ROW-1", HOST, "s3cret")
    with pytest.raises(verberrors.HostMismatch):
        _fast("ROW-1", "evil.example")
    expected = f"HostMismatch: its keyring entry belongs to host {HOST}, not evil.example"
    assert _through_get("ROW-1", "evil.example") == expected
    assert _through_keyring("ROW-1", "evil.example") == expected


def test_a_deleted_item_is_missing_alike(bus: SecretService) -> None:
    _put("ROW-1", HOST, "s3cret")
    secrets.delete(LABEL, "ROW-1", HOST)
    assert _fast("ROW-1", HOST) is None
    assert _through_get("ROW-1", HOST) == _through_keyring("ROW-1", HOST) == (None, False)


def _session_collection_item(row_id: str, secret: str) -> None:
    """An item keyring's search would match, but in the session collection, not the default."""
    import secretstorage

    with closing(secretstorage.dbus_init()) as conn:
        collection = secretstorage.Collection(conn, secretstorage.collection.SESSION_COLLECTION)
        attributes = {"service": secrets.SERVICE, "username": row_id, "host": HOST}
        collection.create_item("elsewhere", attributes, secret.encode())


def test_the_fast_path_finds_nothing_keyring_would_not(bus: SecretService) -> None:
    """Near misses of every kind: other services, users, case, collections, attributes."""
    backend = _keyring_backend()
    _put("ROW-1", HOST, "one")
    _put("row-2", HOST, "two")
    backend.set_password(secrets.SERVICE + "-other", "ROW-3", "other service")  # type: ignore[attr-defined]
    backend.set_password("docker-credential-readystack ", "ROW-4", "trailing space")  # type: ignore[attr-defined]
    backend.set_password(secrets.SERVICE, "ROW-5@" + HOST, "a key-style entry")  # type: ignore[attr-defined]
    _session_collection_item("ROW-6", "in the session collection")
    questions = ["ROW-1", "row-1", "ROW-2", "row-2", "ROW-3", "ROW-4", "ROW-5", "ROW-6", "", "*"]
    for row_id in questions:
        for host in (HOST, "other.example"):
            assert _through_get(row_id, host) == _through_keyring(row_id, host), (row_id, host)
    assert _fast("ROW-6", HOST) is None  # keyring reads the default collection only
    assert _fast("row-2", HOST) == ("two", True)


@pytest.mark.parametrize("row_id", ["ROW-1", "ROW-404"], ids=["its-item", "no-item"])
def test_a_locked_collection_is_left_to_keyring(bus: SecretService, row_id: str) -> None:
    """With the item there, its GetSecret is refused; without, the collection's Locked says so."""
    import secretstorage

    _put("ROW-1", HOST, "s3cret")
    with closing(secretstorage.dbus_init()) as conn:
        secretstorage.get_default_collection(conn).lock()
    with pytest.raises(secretservice.NotServed):
        _fast(row_id, HOST)
    said = _through_get(row_id, HOST)
    assert said == _through_keyring(row_id, HOST)
    assert isinstance(said, str) and said.startswith("SecretStoreError: the keyring is locked; ")


def test_no_default_collection_is_left_to_keyring(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gnome-keyring unlocked with an empty password runs with no default collection."""
    service = SecretService.for_sandbox(sandbox, password=b"")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
    try:
        with pytest.raises(secretservice.NotServed):
            _fast("ROW-1", HOST)
        said = _through_get("ROW-1", HOST)
        assert said == _through_keyring("ROW-1", HOST)
        # keyring's get_default_collection tries to create it, and its prompt cannot be shown.
        assert isinstance(said, str) and "a keyring prompt was dismissed" in said
    finally:
        service.stop()


@pytest.mark.parametrize(
    "address",
    [None, "", "unix:path=/nonexistent/bus", "tcp:host=127.0.0.1,port=1", "nonsense"],
    ids=["unset", "empty", "no-socket", "tcp", "unparsable"],
)
def test_no_session_bus_is_left_to_keyring(
    monkeypatch: pytest.MonkeyPatch, address: str | None
) -> None:
    if address is None:
        monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    with pytest.raises(secretservice.NotServed):
        _fast("ROW-1", HOST)
    said = _through_get("ROW-1", HOST)
    assert said == _through_keyring("ROW-1", HOST)
    assert isinstance(said, str) and said.startswith("SecretStoreError: ")


def test_a_keyring_property_in_the_environment_is_left_to_keyring(
    bus: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KEYRING_PROPERTY_PREFERRED_COLLECTION makes keyring read another collection."""
    _put("ROW-1", HOST, "s3cret")
    monkeypatch.setenv("KEYRING_PROPERTY_PREFERRED_COLLECTION", _session_collection())
    with pytest.raises(secretservice.NotServed):
        _fast("ROW-1", HOST)
    assert _through_get("ROW-1", HOST) == _through_keyring("ROW-1", HOST) == (None, False)


def test_a_bus_run_by_another_user_is_left_to_keyring(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SO_PEERCRED: a session bus whose daemon is another user's never gets the plain session."""
    import os
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("starting a bus daemon as another user needs root (CI runs as root)")
    workdir = Path(tempfile.mkdtemp(prefix="rse2e-otherbus-"))
    workdir.chmod(0o777)
    address = f"unix:path={workdir / 'bus'}"
    daemon = subprocess.Popen(
        [require_tool("dbus-daemon"), "--session", "--nofork", "--nopidfile"]
        + [f"--address={address}"],
        user=65534,  # nobody
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(workdir)},
    )
    try:
        deadline = time.monotonic() + 15
        while not (workdir / "bus").exists():
            assert time.monotonic() < deadline, "dbus-daemon made no socket"
            time.sleep(0.02)
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        asked: list[object] = []
        monkeypatch.setattr(secretservice, "_find", lambda *args: asked.append(args))
        with pytest.raises(secretservice.NotServed):
            _fast("ROW-1", HOST)
        assert asked == []  # not a byte of D-Bus was sent to that bus
        monkeypatch.undo()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        # Both go through keyring, which the daemon turns away: EPIPE or ECONNRESET, by timing.
        rejected = "SecretStoreError: no Secret Service answers on D-Bus ("
        assert str(_through_get("ROW-1", HOST)).startswith(rejected)
        assert str(_through_keyring("ROW-1", HOST)).startswith(rejected)
    finally:
        stop_process(daemon)
        shutil.rmtree(workdir, ignore_errors=True)


# Rounds of the loop below, 2 reads each. With the calls pipelined, 1 to 5 of these 1,000 reads
# went wrong in each of 6 runs; one call at a time with Locked first, gnome-keyring aborted in 3
# of about 155 runs; with ReadAlias first, 3 reads of 200,000 went NotServed (200 runs), no abort.
ROUNDS = 500


def _answer(row_id: str, host: str) -> object:
    """The fast path's own answer, or the name of what it raised instead."""
    try:
        return _fast(row_id, host)
    except Exception as exc:  # noqa: BLE001 - NotServed (keyring's turn) counts as a failure
        return type(exc).__name__


def test_reads_in_a_row_are_all_answered_and_leave_gnome_keyring_running(
    bus: SecretService,
) -> None:
    """Hundreds of fast reads, each answered by the fast path itself; gnome-keyring unharmed.

    Calls sent together race gnome-keyring's alias rewriting, and a new client's first call
    races its set-up (store/secretservice.py's docstring): wrong answers, criticals in its log,
    aborts. One call at a time, ReadAlias first and asked again after a "/": every read answered.
    """
    _put("ROW-1", HOST, "s3cret")
    assert bus.keyring is not None
    pid = bus.owner_pid()
    assert pid == bus.keyring.pid
    logged = bus.log.stat().st_size
    wrong: list[tuple[int, str, object]] = []
    for n in range(ROUNDS):
        for row_id, expected in (("ROW-1", ("s3cret", True)), ("ROW-2", None)):
            answer = _answer(row_id, HOST)
            if answer != expected:
                wrong.append((n, row_id, answer))
    assert wrong == [], f"{len(wrong)} of {2 * ROUNDS} reads went wrong, first: {wrong[:3]}"
    assert bus.keyring.poll() is None, "gnome-keyring-daemon exited"
    assert bus.owner_pid() == pid
    with bus.log.open("rb") as log:
        log.seek(logged)
        said = log.read().decode(errors="replace")
    # gnome-keyring's own race with a new client's first call (the docstring's second race) logs
    # these two lines when it strikes, whatever the client; the read asks again and is answered.
    # Anything else critical (a garbled path from calls sent together, an abort) fails.
    setup_race = (
        "gkd_secret_service_get_pkcs11_session: assertion 'client' failed",
        "gkd_secret_objects_lookup_collection: assertion 'session' failed",
    )
    unexpected = [
        line
        for line in said.splitlines()
        if ("CRITICAL" in line or "ERROR" in line) and not line.endswith(setup_race)
    ]
    assert unexpected == [], said


@pytest.mark.parametrize(
    "backend", ["keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"]
)
def test_keyrings_own_backend_choice_never_picked_the_reader(
    bus: SecretService, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """The row's SecretStore label names the backend that reads it (secrets.backend_for), so
    PYTHON_KEYRING_BACKEND (like keyringrc) changes neither keyring's read nor the fast one."""
    _put("ROW-1", HOST, "s3cret")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    assert _fast("ROW-1", HOST) == ("s3cret", True)
    assert _through_get("ROW-1", HOST) == _through_keyring("ROW-1", HOST) == ("s3cret", True)


def _session_collection() -> str:
    import secretstorage

    return str(secretstorage.collection.SESSION_COLLECTION)


# Through the helper executable: the console script, or the PyInstaller binary in CI's second
# pass (READYSTACK_HELPER_EXE).


def _add(sandbox: Sandbox, name: str, url: str, password: str) -> str:
    proc = sandbox.run(
        [HELPER, "registry", "add", name, "--url", url, "--username", "alice"]
        + ["--password-stdin", "--secret-store", "keyring"],
        stdin=password + "\n",
    )
    assert proc.returncode == 0, output(proc)
    return next(str(r["Id"]) for r in registry_rows(sandbox.db) if r["Name"] == name)


def _imports_of_get(
    sandbox: Sandbox, host: str, tmp: Path
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """`get` with its imports recorded: PyInstaller's audit hook or -X importtime."""
    audit = tmp / "audit.txt"
    audit.unlink(missing_ok=True)
    proc = sandbox.run(
        [HELPER, "get"],
        stdin=host,
        env={"READYSTACK_PYI_AUDIT": str(audit), "PYTHONPROFILEIMPORTTIME": "1"},
    )
    if audit.exists():
        lines = audit.read_text().splitlines()
        return proc, {line.split(" ", 1)[1] for line in lines if line.startswith("module ")}
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return proc, names


def test_the_helper_reads_keyring_items_without_importing_keyring(
    sandbox: Sandbox, bus: SecretService
) -> None:
    """The executable answers from the Secret Service with jeepney's core alone.

    No keyring, no crypto; and not jeepney's package either: its __init__ would import every
    submodule, socket.py and selectors with them (store/secretservice.py's _jeepney).
    """
    secret = "s3cret " + UNICODE
    _add(sandbox, "kr", f"http://{HOST}", secret)
    proc, modules = _imports_of_get(sandbox, HOST, sandbox.root)
    assert proc.returncode == 0, output(proc)
    assert json.loads(proc.stdout) == {"ServerURL": HOST, "Username": "alice", "Secret": secret}
    assert "import time:" in proc.stderr or modules  # the probe saw something
    assert "readystack.store.secretservice" in modules
    denied = ("keyring", "secretstorage", "cryptography", "jeepney", "socket", "selectors")
    loaded = sorted(m for m in modules if m.split(".")[0] in denied)
    assert loaded == [], f"get of a Secret Service secret imported {loaded}"


def test_the_helper_answers_what_keyring_answers(sandbox: Sandbox, bus: SecretService) -> None:
    """The executable against keyring's own read, per row: found, unbound, deleted, other host."""
    found = _add(sandbox, "found", f"http://{HOST}", "s3cret-found")
    gone = _add(sandbox, "gone", "http://gone.example.com", "s3cret-gone")
    secrets.delete(LABEL, gone, "gone.example.com")
    unbound = _add(sandbox, "unbound", "http://unbound.example.com", "s3cret-unbound")
    backend = _keyring_backend()
    backend.delete_password(secrets.SERVICE, unbound)  # type: ignore[attr-defined]
    backend.set_password(secrets.SERVICE, unbound, "s3cret-old")  # type: ignore[attr-defined]
    assert _through_keyring(found, HOST) == ("s3cret-found", True)
    assert sandbox.get(HOST) == {"ServerURL": HOST, "Username": "alice", "Secret": "s3cret-found"}
    assert _through_keyring(gone, "gone.example.com") == (None, False)
    proc = sandbox.helper("get", "gone.example.com")
    assert (proc.returncode, proc.stdout) == (1, "credentials not found in native keychain\n")
    assert "its keyring entry is missing" in proc.stderr
    assert _through_keyring(unbound, "unbound.example.com") == ("s3cret-old", False)
    proc = sandbox.helper("get", "unbound.example.com")
    assert json.loads(proc.stdout)["Secret"] == "s3cret-old"
    assert "is not bound to unbound.example.com yet" in proc.stderr


def test_the_helper_without_a_session_bus_says_what_keyring_says(
    sandbox: Sandbox, bus: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(sandbox, "kr", f"http://{HOST}", "s3cret")
    for address in ("unix:path=/nonexistent/bus", None):
        if address is None:
            sandbox.env.pop("DBUS_SESSION_BUS_ADDRESS")
            monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
        else:
            sandbox.env["DBUS_SESSION_BUS_ADDRESS"] = address
            monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        row_id = str(registry_rows(sandbox.db)[0]["Id"])
        said = _through_keyring(row_id, HOST)
        assert isinstance(said, str)
        proc = sandbox.helper("get", HOST)
        assert (proc.returncode, proc.stdout) == (1, "credentials not found in native keychain\n")
        assert proc.stderr == (
            f"{HELPER}: skipping registry 'kr': {said.removeprefix('SecretStoreError: ')}\n"
        )
