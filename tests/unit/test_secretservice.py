"""The fast Secret Service read's own decisions, without a bus: when it leaves a read to keyring."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from jeepney.low_level import HeaderFields
from readystack.store import secrets, secretservice
from readystack.store.secrets import SecretStoreError

LABEL = secrets.KEYRING_PREFIX + "keyring.backends.SecretService.Keyring"


def _never(attributes: object) -> bool:
    raise AssertionError("no item should have been seen")


@pytest.mark.parametrize(
    "name",
    ["KEYRING_PROPERTY_PREFERRED_COLLECTION", "KEYRING_PROPERTY_SCHEME", "X_KEYRING_PROPERTY_Y"],
)
def test_a_keyring_property_in_the_environment_leaves_the_read_to_keyring(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # keyring's set_properties_from_env matches the mark anywhere in the name.
    monkeypatch.setenv(name, "/org/freedesktop/secrets/collection/other")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
    with pytest.raises(secretservice.NotServed):
        secretservice.read(secrets._query("ROW-1"), _never)


def test_a_bus_run_by_this_user_is_trusted() -> None:
    one, two = socket.socketpair(socket.AF_UNIX)
    with one, two:
        secretservice._check_peer(one)  # no exception: the peer is this process


def test_a_bus_run_by_another_user_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = socket.socketpair(socket.AF_UNIX)
    monkeypatch.setattr(os, "getuid", lambda: 4242)
    with one, two, pytest.raises(secretservice.NotServed):
        secretservice._check_peer(one)


def test_only_a_unix_socket_is_trusted() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
        pytest.raises(secretservice.NotServed),
    ):
        secretservice._check_peer(tcp)


def test_a_secret_service_that_stops_answering_ends_in_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def hang(*args: object) -> None:
        raise TimeoutError

    monkeypatch.setattr(secretservice, "read", hang)
    with pytest.raises(SecretStoreError, match=r"^no Secret Service answers on D-Bus \(no reply"):
        secrets.get(LABEL, "ROW-1", "r.io")


def test_only_secret_service_rows_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(secretservice, "read", lambda *a: calls.append(a))
    with pytest.raises(SecretStoreError):
        secrets.get(secrets.KEYRING_PREFIX + "keyring.backends.kwallet.DBusKeyring", "R", "r.io")
    assert calls == []


class _FakeBus:
    """A unix socket server that answers each connection with ``reply`` bytes (or nothing)."""

    def __init__(self, path: str, reply: bytes | None) -> None:
        import threading

        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1)
        self.reply = reply
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            conn.recv(65536)
            if self.reply is not None:
                conn.sendall(self.reply)
                if self.reply == b"":
                    return  # closes at once
            self.done.wait(10)

    def close(self) -> None:
        self.done.set()
        self.thread.join(10)
        self.server.close()


@pytest.mark.parametrize(
    "reply",
    [b"", b"REJECTED EXTERNAL\r\n", b"OK 0123456789abcdef\r\n" + b"\xff" * 64],
    ids=["closed", "rejected", "garbage"],
)
def test_a_bus_that_misbehaves_leaves_the_read_to_keyring(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, reply: bytes
) -> None:
    path = os.path.join(str(tmp_path), "bus")
    fake = _FakeBus(path, reply)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={path}")
    try:
        with pytest.raises(secretservice.NotServed):
            secretservice.read(secrets._query("ROW-1"), _never)
    finally:
        fake.close()


def test_a_bus_that_never_answers_ends_in_a_timeout(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = os.path.join(str(tmp_path), "bus")
    fake = _FakeBus(path, None)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={path}")
    monkeypatch.setattr(secretservice, "REPLY_TIMEOUT", 0.2)
    try:
        with pytest.raises(TimeoutError):
            secretservice.read(secrets._query("ROW-1"), _never)
    finally:
        fake.close()


def _fresh(code: str) -> list[str]:
    """The stdout lines of ``code`` run in a new interpreter, where nothing is imported yet."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_jeepneys_core_loads_without_its_package_or_socket() -> None:
    out = _fresh(
        "import sys\n"
        "from readystack.store import secretservice\n"
        "low, auth = secretservice._jeepney()\n"
        "(bus,) = secretservice._jeepney(('jeepney.bus',))\n"
        "print(low.Parser.__module__, auth.Authenticator.__module__, bus.get_bus.__module__)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('jeepney', 'socket', 'selectors', 'array')))\n"
    )
    assert out == ["jeepney.low_level jeepney.auth jeepney.bus", "[]"]


def test_jeepneys_core_runs_with_stand_ins_that_leave_no_trace() -> None:
    out = _fresh(
        "import sys\n"
        "from readystack.store import secretservice\n"
        "low, auth = secretservice._jeepney()\n"
        "print('typing' in sys.modules, 'string' in sys.modules, 'binascii' in sys.modules)\n"
        "path = low.simple_types['o']\n"
        "path.check_data('/org/freedesktop/secrets/collection/login_2')\n"
        "try:\n"
        "    path.check_data('/org/free-desktop')\n"
        "except ValueError:\n"
        "    print('refused')\n"
        "sasl = auth.make_auth_external()\n"
        "import binascii, os, string, typing\n"
        "print(typing.Optional[int], string.Template('$a').substitute(a=1))\n"
        "uid = binascii.hexlify(str(os.geteuid()).encode())\n"
        "print(sasl == b'AUTH EXTERNAL ' + uid + b'\\r\\n')\n"
    )
    assert out == ["False False False", "refused", "typing.Optional[int] 1", "True"]


def test_a_jeepney_that_takes_more_from_typing_is_left_to_keyring(tmp_path: Path) -> None:
    # A later jeepney whose core used more of `typing` than the stand-in has: NotServed.
    fake = tmp_path / "jeepney"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('the package itself never runs')\n")
    (fake / "low_level.py").write_text("from typing import Optional, Union\n")
    for name in ("auth", "bus"):
        (fake / f"{name}.py").write_text("")
    out = _fresh(
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from readystack.store import secretservice\n"
        "try:\n"
        "    secretservice._jeepney()\n"
        "except secretservice.NotServed:\n"
        "    print('NotServed', 'typing' in sys.modules)\n"
    )
    assert out == ["NotServed False"]


def test_keyring_after_the_fast_read_imports_jeepney_whole() -> None:
    # What keyring meets when it reads after NotServed in the same process: the whole package,
    # its submodules reachable as attributes (a half-registered package would lack them).
    out = _fresh(
        "from readystack.store import secretservice\n"
        "secretservice._jeepney()\n"
        "import jeepney.low_level\n"
        "from jeepney.io.blocking import open_dbus_connection\n"
        "print(jeepney.low_level.Parser is jeepney.Parser, jeepney.auth.BEGIN)\n"
    )
    assert out == ["True b'BEGIN\\r\\n'"]


def test_an_imported_jeepney_serves_its_own_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    import jeepney.auth
    import jeepney.bus
    import jeepney.low_level

    monkeypatch.setattr(secretservice, "_LOADED", {})
    assert secretservice._jeepney() == (jeepney.low_level, jeepney.auth)
    assert secretservice._jeepney(("jeepney.bus",)) == (jeepney.bus,)


# Session bus addresses: the plain form read at once, and every other kind through jeepney.
ADDRESSES = [
    "unix:path=/run/user/1000/bus",
    "unix:path=/tmp/dbus sock=x",
    "unix:path=",
    "unix:path=/tmp/a%2Cb",
    "unix:path=/tmp/bus,guid=0123456789abcdef",
    "unix:abstract=/tmp/dbus-XyZ,guid=0123456789abcdef",
    "tcp:host=127.0.0.1,port=1;unix:path=/tmp/second",
    "unix:path=/tmp/first;unix:path=/tmp/second",
    "tcp:host=127.0.0.1,port=1",
    "unix:tmpdir=/tmp",
    "nonsense",
    "",
    None,
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_session_bus_is_the_one_jeepney_finds(
    monkeypatch: pytest.MonkeyPatch, address: str | None
) -> None:
    """session_bus_path() is jeepney's get_bus("SESSION"), or NotServed where that raises."""
    from jeepney.bus import get_bus

    if address is None:
        monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    try:
        expected: object = get_bus("SESSION")
    except Exception:  # noqa: BLE001 - whatever jeepney raises, the read leaves it to keyring
        expected = secretservice.NotServed
    try:
        found: object = secretservice.session_bus_path()
    except secretservice.NotServed:
        found = secretservice.NotServed
    assert found == expected


def test_the_plain_session_bus_address_loads_no_parser() -> None:
    out = _fresh(
        "import os\n"
        "os.environ['DBUS_SESSION_BUS_ADDRESS'] = 'unix:path=/run/user/1000/bus'\n"
        "from readystack.store import secretservice\n"
        "print(secretservice.session_bus_path(), sorted(secretservice._LOADED))\n"
        "os.environ['DBUS_SESSION_BUS_ADDRESS'] = 'unix:abstract=/tmp/x,guid=0'\n"
        "print(repr(secretservice.session_bus_path()), sorted(secretservice._LOADED))\n"
    )
    assert out == ["/run/user/1000/bus []", "'\\x00/tmp/x' ['jeepney.bus']"]


def test_without_jeepney_the_read_is_keyrings() -> None:
    # No finder knows jeepney (as where it is not installed): NotServed, before any connection.
    out = _fresh(
        "import importlib.machinery, os, sys\n"
        "from readystack.store import secretservice\n"
        "sys.meta_path.remove(importlib.machinery.PathFinder)\n"
        "for call in (secretservice._jeepney, lambda: secretservice.read({}, print)):\n"
        "    try:\n"
        "        call()\n"
        "    except secretservice.NotServed:\n"
        "        print('NotServed')\n"
    )
    assert out == ["NotServed", "NotServed"]


COLLECTION = "/org/freedesktop/secrets/collection/login"
ITEM = COLLECTION + "/7"
SESSION = "/org/freedesktop/secrets/session/s1"


class _OneCallAtATime:
    """A fake bus socket answering like dbus-daemon + gnome-keyring, one call at a time.

    It records each write, answers a call only when the client next reads, and fails any
    write that brings a method call while another one is still unanswered.
    """

    def __init__(
        self,
        locked: bool = False,
        found: bool = True,
        alias: str | list[str] = COLLECTION,
        item: str = ITEM,
    ) -> None:
        from jeepney.low_level import Parser

        self.parser = Parser()
        self.writes: list[bytes] = []
        self.unanswered: list[object] = []
        self.outbox = b""
        self.locked = locked
        self.found = found
        # ReadAlias's answers in turn, the last one from then on: "/" for no collection.
        self.aliases = [alias] if isinstance(alias, str) else alias
        self.item = item

    def settimeout(self, seconds: float) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.writes.append(data)
        if len(self.writes) == 1:  # the SASL lines and BEGIN lead the first write
            sasl, begin, data = data.partition(b"BEGIN\r\n")
            assert sasl.startswith(b"\0AUTH EXTERNAL ") and begin
            self.outbox += b"OK 0123456789abcdef0123456789abcdef\r\n"
        self.parser.add_data(data)
        while (msg := self.parser.get_next_message()) is not None:
            assert not self.unanswered, "a method call was sent before the last one's reply"
            self.unanswered.append(msg)

    def recv(self, size: int) -> bytes:
        if not self.outbox and self.unanswered:
            self.outbox += self._answer(self.unanswered.pop())
        data, self.outbox = self.outbox[:size], self.outbox[size:]
        return data

    def _answer(self, call: object) -> bytes:
        from jeepney import DBusAddress, new_error, new_method_return, new_signal

        member = call.header.fields[HeaderFields.member]  # type: ignore[attr-defined]
        body = call.body  # type: ignore[attr-defined]
        if member == "Hello":  # and NameAcquired, which the read passes over
            bus = DBusAddress("/org/freedesktop/DBus", interface="org.freedesktop.DBus")
            acquired = new_signal(bus, "NameAcquired", "s", (":1.42",))
            reply = new_method_return(call, "s", (":1.42",)).serialise(serial=1)
            return reply + acquired.serialise(serial=2)
        replies = {
            "ReadAlias": ("o", (self.aliases.pop(0) if self.aliases[1:] else self.aliases[0],)),
            "Locked": ("v", (("b", self.locked),)),
            "SearchItems": ("ao", ([self.item] if self.found else [],)),
            "Attributes": ("v", (("a{ss}", {"host": "r.io"}),)),
            "OpenSession": ("vo", (("s", ""), SESSION)),
            "GetSecret": ("(oayays)", ((SESSION, b"", b"s3cret", "text/plain"),)),
        }
        if member == "GetSecret" and self.locked:  # an item of a locked collection is locked
            error = "org.freedesktop.Secret.Error.IsLocked"
            return new_error(call, error, "s", ("Cannot get secret of a locked object",)).serialise(
                serial=3
            )
        signature, reply_body = replies[body[1] if member == "Get" else member]
        return new_method_return(call, signature, reply_body).serialise(serial=3)


def _calls(query: dict[str, str], found: bool = True) -> list[bytes]:
    """What keyring's secretstorage sends for the read, built by jeepney, serials from 2."""
    from jeepney import DBusAddress, new_method_call

    collection = DBusAddress(
        COLLECTION, secretservice.BUS_NAME, "org.freedesktop.Secret.Collection"
    )
    item = DBusAddress(ITEM, secretservice.BUS_NAME, "org.freedesktop.Secret.Item")
    service = DBusAddress(
        secretservice.SERVICE_PATH, secretservice.BUS_NAME, "org.freedesktop.Secret.Service"
    )
    properties = "org.freedesktop.DBus.Properties"
    calls = [
        # secretstorage.collection.get_collection_by_alias's call, for the default alias.
        new_method_call(service, "ReadAlias", "s", ("default",)),
        new_method_call(collection, "SearchItems", "a{ss}", (query,)),
    ]
    if found:
        calls += [
            new_method_call(
                item.with_interface(properties), "Get", "ss", (item.interface, "Attributes")
            ),
            new_method_call(service, "OpenSession", "sv", ("plain", ("s", ""))),
            new_method_call(item, "GetSecret", "o", (SESSION,)),
        ]
    else:  # only then does a locked collection change the answer
        calls.append(
            new_method_call(
                collection.with_interface(properties), "Get", "ss", (collection.interface, "Locked")
            )
        )
    return [call.serialise(serial=n) for n, call in enumerate(calls, start=2)]


@pytest.mark.parametrize("found", [True, False], ids=["found", "missing"])
def test_each_call_waits_for_the_last_ones_reply(found: bool) -> None:
    """gnome-keyring garbles a new client's calls that arrive together (the module docstring)."""
    from jeepney.bus_messages import message_bus

    low_level, auth = secretservice._jeepney()
    sock = _OneCallAtATime(found=found)
    query = secrets._query("ROW-1")
    answer = secretservice._find(secretservice._Bus(sock, low_level, auth), query)
    assert answer == ((b"s3cret", {"host": "r.io"}) if found else None)
    # The bus daemon's Hello follows BEGIN in the first write; then one call per write.
    assert sock.writes[0].endswith(message_bus.Hello().serialise(serial=1))
    assert sock.writes[1:] == _calls(query, found)
    assert not any(b"/aliases/" in write for write in sock.writes)


@pytest.mark.parametrize(
    "alias",
    ["/", "/org/freedesktop/secrets/aliases/default", "/org/freedesktop/secrets/collection"],
    ids=["unset", "an-alias", "no-collection"],
)
def test_no_default_collection_ends_the_read_at_read_alias(alias: str) -> None:
    """ReadAlias's "/" (gnome-keyring: no such collection) is keyring's; an alias is never sent."""
    low_level, auth = secretservice._jeepney()
    sock = _OneCallAtATime(alias=alias)
    with pytest.raises(secretservice.NotServed):
        secretservice._find(secretservice._Bus(sock, low_level, auth), secrets._query("ROW-1"))
    # The Hello, then ReadAlias; a "/" is asked twice (the next test says why).
    assert len(sock.writes) == (3 if alias == "/" else 2)


def test_a_first_read_alias_answered_before_the_client_is_set_up_is_asked_again() -> None:
    """gnome-keyring 42.1 may handle a new client's first call before setting the client up, and
    its ReadAlias then answers "/" (the module docstring): the second answer is the real one."""
    low_level, auth = secretservice._jeepney()
    sock = _OneCallAtATime(alias=["/", COLLECTION])
    query = secrets._query("ROW-1")
    answer = secretservice._find(secretservice._Bus(sock, low_level, auth), query)
    assert answer == (b"s3cret", {"host": "r.io"})
    from jeepney.low_level import Parser

    parser = Parser()
    members = []
    for write in sock.writes[1:]:
        parser.add_data(write)
        members += [
            m.header.fields[HeaderFields.member] for m in iter(parser.get_next_message, None)
        ]
    assert members == ["ReadAlias", "ReadAlias", "SearchItems", "Get", "OpenSession", "GetSecret"]


def test_an_item_outside_the_collection_is_left_to_keyring() -> None:
    """gnome-keyring names found items under the path it was sent; anything else is unusual."""
    low_level, auth = secretservice._jeepney()
    sock = _OneCallAtATime(item="/org/freedesktop/secrets/aliases/default/7")
    with pytest.raises(secretservice.NotServed):
        secretservice._find(secretservice._Bus(sock, low_level, auth), secrets._query("ROW-1"))
    assert len(sock.writes) == 3  # the Hello, ReadAlias, SearchItems


@pytest.mark.parametrize("found", [True, False], ids=["found", "missing"])
def test_a_locked_collection_is_left_to_keyring(found: bool) -> None:
    """Found: its item's GetSecret is refused (IsLocked). Missing: the Locked call says so."""
    low_level, auth = secretservice._jeepney()
    sock = _OneCallAtATime(locked=True, found=found)
    with pytest.raises(secretservice.NotServed):
        secretservice._find(secretservice._Bus(sock, low_level, auth), secrets._query("ROW-1"))
    # The Hello, ReadAlias, SearchItems; then the item's Attributes, OpenSession and GetSecret,
    # or the collection's Locked.
    assert len(sock.writes) == (6 if found else 4)


def test_the_fake_bus_refuses_pipelined_calls() -> None:
    """The fake that the tests above rely on does fail a client that does not wait."""
    low_level, auth = secretservice._jeepney()
    sock = _OneCallAtATime()
    bus = secretservice._Bus(sock, low_level, auth)
    bus.connect()
    with pytest.raises(AssertionError, match="before the last one's reply"):
        bus._send(b"".join(_calls(secrets._query("ROW-1"))[:2]))


def test_an_item_path_jeepney_would_refuse_is_refused() -> None:
    low_level, auth = secretservice._jeepney()
    bus = secretservice._Bus(None, low_level, auth)
    with pytest.raises(ValueError, match="Object path"):  # before a byte is sent
        bus.call(
            "/org/freedesktop/secrets/collection/login/1/../2", "x.Item", "GetSecret", "o", "/"
        )
