"""`get`'s fast read of a row's Secret Service item over D-Bus (jeepney), without keyring.

It reads exactly what `secrets._read` reads through keyring's SecretService backend
(keyring/backends/SecretService.py, secretstorage/collection.py and item.py, as installed):
the collection that the ``default`` alias names, its first item from ``SearchItems`` on
``{service, username}``, that item's ``host`` attribute, then its secret. It answers only the
plain, expected cases: an unlocked default collection, an unlocked item or none. Everything else
(no session bus, a bus it cannot trust, no default collection, a locked collection or item, any
D-Bus error) raises NotServed: the caller then goes through keyring as before, so those outcomes
and their messages are keyring's own, by construction.

Speed: jeepney's I/O-free core (its Authenticator, Message serialisation and Parser) over one
blocking unix socket. The SASL lines, BEGIN and the bus daemon's Hello go out in one write: the
D-Bus specification lets a client pipeline its SASL commands and BEGIN, the server replying once
per command before the message stream starts (the "BEGIN command" section), and libdbus's server
keeps the bytes after BEGIN as the first messages, which its dispatcher handles in order, Hello
first. The calls to the Secret Service then go one at a time, each sent only after the previous
one's reply, and the first of them is the Service's ReadAlias("default"), whose answer, the
collection's own path, is where every later call goes: keyring's secretstorage calls the
collection at ``/org/freedesktop/secrets/aliases/default`` instead (secretstorage's
get_collection_by_alias makes the same ReadAlias call). Two races in gnome-keyring 42.1's
daemon/dbus/gkd-secret-service.c are why:

* Alias paths. service_message_filter, in GDBus's worker thread, rewrites each incoming message
  whose path starts with ``/org/freedesktop/secrets/aliases`` (rewrite_default_alias) with the
  string in its alias table, which the main thread frees and replaces while it sets up each new
  client (ensure_client_for_sender, initialize_service_client, update_default). Calls sent together
  got "Object does not exist at path .../collection/<garbage>" (GLib-GIO-CRITICAL
  g_dbus_message_set_path) in 1 to 12 reads of 6,000, and once the abort below. Other paths leave
  the filter before the table is read, and ReadAlias reads it in the main thread
  (service_method_read_alias).
* A new client's first call. That set-up is an idle callback the filter queues; now and then the
  first call is handled without it ("gkd_secret_service_get_pkcs11_session: assertion 'client'
  failed"; downstream reports of the same abort cite gnome-keyring's GitLab issues 195 and 196). A
  property Get then aborts the daemon (secret_objects_lookup_gck_object_for_path: assertion
  'session' failed, then GLib-GIO invoke_get_property_in_idle_cb: assertion failed: (error !=
  NULL)): 1,000 reads in a row, each a new client, one call at a time with the collection's Locked
  first, did that in 3 of about 155 runs, every read after it NotServed. ReadAlias copes: its
  collection lookup finds no session and it answers "/", which is NotServed here. With ReadAlias
  first, 200 such runs never aborted it, and 3 reads in them went NotServed: the "/" of a client
  not set up yet. The set-up is queued before the first call is handled, so the calls after its
  reply find the client: a "/" is asked once more, which costs a round trip only where the
  alias is truly unset.

A credential helper must never crash the user's keyring daemon. What this read cannot prevent:
other clients racing each other or themselves (keyring's own reads among them: its first call
is the collection's Label). Any surprise on the way is NotServed, and keyring reads as before.

Start-up is most of a `get`, so the read imports only what it uses: jeepney's low_level and
auth modules without the package's ``__init__`` (see ``_jeepney``; its bus module only for a
session bus address out of the ordinary: see ``session_bus_path``), and the C ``_socket``
module rather than socket.py (which imports selectors and converts its constants to enums).
What is left is jeepney's own needs: enum, re and struct (typing, string and binascii are
stand-ins while its modules run: see ``_StandIns``).

Session security: the secret is asked for in a "plain" session (no Diffie-Hellman + AES), which
keyring's secretstorage also falls back to when a service refuses the encrypted one, on any bus.
Here it is used only over a unix socket whose other end (the bus daemon, SO_PEERCRED) runs as
this same user. Only processes of this user (or root) can then see the bytes: they could
connect to the same Secret Service and ask for the item themselves (gnome-keyring has no
per-application access control), or read this process's memory, where the decrypted secret lies
in either case. The encrypted session protects nothing from them, and no one else is on the path.
"""

from __future__ import annotations

import os

from .errors import Internal

TYPE_CHECKING = False  # the names below serve annotations only: the read never imports them
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    Check = Callable[[Mapping[str, str]], bool]

BUS_NAME = "org.freedesktop.secrets"
# keyring's collection when none is preferred: secretstorage.collection.DEFAULT_COLLECTION is
# this alias's path (/org/freedesktop/secrets/aliases/default), which the read never sends; it
# asks the Service's ReadAlias for the collection's own path instead (the docstring says why).
DEFAULT_ALIAS = "default"
SERVICE_PATH = "/org/freedesktop/secrets"
# Where the Secret Service specification puts collections; ReadAlias answers "/" for none.
COLLECTION_PREFIX = "/org/freedesktop/secrets/collection/"
_IFACE = "org.freedesktop.Secret."
_DBUS = "org.freedesktop.DBus"  # the bus daemon's name and interface (for Hello)
# D-Bus calls to gnome-keyring answer in milliseconds; libdbus's default reply timeout is 25 s.
REPLY_TIMEOUT = 25.0
# keyring's KeyringBackend.set_properties_from_env sets an attribute for every environment
# variable whose name contains this (KEYRING_PROPERTY_PREFERRED_COLLECTION picks another
# collection): with any of them set, the read is keyring's.
_PROPERTY_MARK = "KEYRING_PROPERTY_"


class NotServed(Internal):
    """The fast read cannot decide this case; keyring must."""


def read(query: Mapping[str, str], check: Check) -> tuple[str, bool] | None:
    """(secret, check's answer) of the first item ``query`` finds, None when there is none.

    Raises NotServed when keyring must decide. ``check`` sees the item's attributes (after the
    connection is closed) before the secret is used, and may raise. A Secret Service that stops
    answering raises TimeoutError after REPLY_TIMEOUT.
    """
    if any(_PROPERTY_MARK in name for name in os.environ):
        raise NotServed
    address = session_bus_path()  # before jeepney's core: without a bus, keyring reads anyway
    low_level, auth = _jeepney()
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        bus = _Bus(sock, low_level, auth)
        bus.timeout()
        sock.connect(address)
        _check_peer(sock)
        found = _find(bus, query)
    except (NotServed, TimeoutError):
        raise
    except Exception:  # noqa: BLE001 - a reset connection, a malformed reply: keyring's turn
        raise NotServed from None
    finally:
        sock.close()
    if found is None:
        return None
    value, attributes = found
    verdict = check(attributes)
    try:
        return value.decode("utf-8"), verdict  # keyring: item.get_secret().decode('utf-8')
    except UnicodeDecodeError:
        raise NotServed from None


def session_bus_path() -> str:
    """The session bus's socket, as secretstorage.dbus_init finds it; NotServed when none.

    That is jeepney's bus.get_bus("SESSION") (via jeepney.io.blocking.open_dbus_connection):
    the first unix address in DBUS_SESSION_BUS_ADDRESS, its values %-unescaped. The address a
    systemd user session or dbus-run-session gives, ``unix:path=PATH`` alone with nothing to
    unescape, reads as PATH at once; any other goes through jeepney's own parser, whose module
    compiles a regular expression on import (0.7 M instructions, an eighth of the read).
    tests/unit/test_secretservice.py compares the two over a table of addresses.
    """
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    plain = "unix:path="
    if address.startswith(plain) and not any(mark in address for mark in ";,%"):
        return address[len(plain) :]
    (bus_module,) = _jeepney(("jeepney.bus",))
    try:
        return bus_module.get_bus("SESSION")  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - unset, unparsable, not unix: keyring says which
        raise NotServed from None


# The jeepney modules this read has loaded, by name; each is loaded at most once.
_LOADED: dict[str, ModuleType] = {}
# What every read uses: the message format and parser, and the SASL authenticator.
CORE = ("jeepney.low_level", "jeepney.auth")


def _jeepney(names: tuple[str, ...] = CORE) -> tuple[ModuleType, ...]:
    """jeepney's modules ``names`` (its core by default), run without its package ``__init__``.

    ``import jeepney.low_level`` first runs jeepney/__init__.py, which imports every submodule
    (fds with socket.py, selectors and array; wrappers; bus_messages): about 20 M instructions,
    more than the read itself. low_level, auth and bus import only the standard library
    (typing, string, struct, binascii, re), no sibling, so each is found with its package's
    search path and run the way the import system would (importlib's "approximating
    import_module" recipe), but kept out of sys.modules: the package is never half-imported, and
    if keyring reads next in this process it imports jeepney whole, as it always did. Where
    jeepney is imported already (keyring ran first), its own modules serve. Raises NotServed
    when jeepney is missing.
    """
    import sys

    if all(name in sys.modules for name in names):
        return tuple(sys.modules[name] for name in names)
    try:
        missing = [name for name in names if name not in _LOADED]
        if missing:
            package = _spec("jeepney", None)  # finds the package, does not run it
            path = package.submodule_search_locations
            if not path:
                raise NotServed
            with _StandIns():
                for name in missing:
                    _LOADED[name] = _load(_spec(name, path))
    except NotServed:
        raise
    except Exception:  # noqa: BLE001 - a jeepney this loader does not fit: keyring's turn
        raise NotServed from None
    return tuple(_LOADED[name] for name in names)


class _StandIns:
    """While jeepney's core runs: `typing`, `string` and `binascii` as the little it takes of them.

    jeepney 0.8-0.9's low_level and auth import `typing` for two return annotations
    (``Optional[Message]``, ``Optional[bytes]``), low_level imports `string` for
    ``ascii_letters`` and ``digits`` (its object-path check), and auth takes binascii's
    ``hexlify`` for the uid it sends in SASL EXTERNAL. The real typing and string cost a keyring
    `get` 18.6 M instructions (typing loads contextlib, warnings and more; string compiles
    Template's regular expression): loading jeepney's core drops from 27.7 M to 9.1 M. binascii
    is a shared library whose loading costs 0.6 M more; ``bytes.hex`` gives the same bytes.

    Only where one is not imported yet, and only for these three modules: what they import for
    real (struct, collections, enum, re) is imported first, so nothing else ever sees a stand-in,
    and each leaves sys.modules when the modules have run (a later ``import typing`` gets the
    real one). A jeepney that takes more from one fails to load or to serialise, which is
    NotServed: keyring then reads, as before. tests/unit/test_secretservice.py checks both ways.
    """

    __slots__ = ("added",)

    def __init__(self) -> None:
        self.added: list[ModuleType] = []

    def __enter__(self) -> None:
        # The real imports of jeepney's core, so that they never meet a stand-in themselves.
        import collections  # noqa: F401
        import enum  # noqa: F401
        import re  # noqa: F401
        import struct  # noqa: F401
        import sys

        lower = "abcdefghijklmnopqrstuvwxyz"
        names = {
            "typing": {"Optional": _Optional},
            "string": {
                "ascii_lowercase": lower,
                "ascii_uppercase": lower.upper(),
                "ascii_letters": lower + lower.upper(),
                "digits": "0123456789",
            },
            "binascii": {"hexlify": _hexlify},
        }
        for name, attributes in names.items():
            if name not in sys.modules:
                stand_in = type(sys)(name)
                stand_in.__dict__.update(attributes)
                self.added.append(stand_in)
        for stand_in in self.added:
            sys.modules[stand_in.__name__] = stand_in

    def __exit__(self, *exc: object) -> None:
        import sys

        for stand_in in self.added:
            if sys.modules.get(stand_in.__name__) is stand_in:
                del sys.modules[stand_in.__name__]


def _hexlify(data: bytes) -> bytes:
    """binascii.hexlify of ``data``: its lowercase hexadecimal digits, as bytes."""
    return data.hex().encode("ascii")


class _Optional:
    """``typing.Optional[X]`` in an annotation nobody reads: X itself."""

    def __class_getitem__(cls, item: object) -> object:
        return item


def _spec(name: str, path: list[str] | None) -> ModuleSpec:
    """Module ``name``'s spec from the import system's finders (``path``: its package's)."""
    import sys

    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        spec = find(name, path) if find is not None else None
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    raise NotServed


def _load(spec: ModuleSpec) -> ModuleType:
    """The module ``spec`` describes, made and run as importlib.util.module_from_spec would.

    By hand: importlib.util (with importlib._abc) would cost 1.4 M instructions more.
    """
    import sys

    loader = spec.loader
    module = loader.create_module(spec) or type(sys)(spec.name)  # type: ignore[union-attr]
    module.__spec__ = spec
    module.__loader__ = loader
    module.__package__ = spec.parent
    if spec.has_location:
        module.__file__ = spec.origin
    loader.exec_module(module)  # type: ignore[union-attr]
    return module  # type: ignore[no-any-return]


def _check_peer(sock: object) -> None:
    """Serve only when the bus daemon at the other end of the unix socket is this user's."""
    import _socket
    import struct

    if not isinstance(sock, _socket.socket) or sock.family != _socket.AF_UNIX:
        raise NotServed
    size = struct.calcsize("3i")
    _pid, uid, _gid = struct.unpack(
        "3i", sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, size)
    )
    if uid != os.getuid():
        raise NotServed


class _Bus:
    """One method call at a time on one socket; an error reply or a closed socket is NotServed.

    Each call is sent only once the previous one is answered (the module docstring says why):
    ``connect`` and ``call`` are the only writers, and both wait for their reply.
    """

    def __init__(self, sock: object, low_level: ModuleType, auth: ModuleType) -> None:
        import time

        self.sock = sock
        self.low_level = low_level
        self.auth = auth
        self.deadline = time.monotonic() + REPLY_TIMEOUT
        self.parser = low_level.Parser()
        self.serial = 1  # Hello's

    def _message(
        self,
        dest: str,
        path: str,
        iface: str,
        method: str,
        signature: str,
        body: tuple,
        serial: int,
    ) -> bytes:
        """A method call, as jeepney.wrappers.new_method_call builds it (no flags, protocol 1).

        jeepney's Header and Message serialise it; the header's path is checked there
        (jeepney's ObjectPathType), the names are this module's constants.
        """
        low = self.low_level
        fields = low.HeaderFields
        header = low.Header(
            low.Endianness.little,
            low.MessageType.method_call,
            flags=0,
            protocol_version=1,
            body_length=-1,
            serial=-1,
            fields={
                fields.path: path,
                fields.destination: dest,
                fields.interface: iface,
                fields.member: method,
            },
        )
        if signature:
            header.fields[fields.signature] = signature
        return low.Message(header, body).serialise(serial=serial)  # type: ignore[no-any-return]

    def connect(self) -> None:
        """Authenticate and say Hello to the bus daemon in one write, and wait for its reply."""
        auth = self.auth.Authenticator(inc_null_byte=False)
        # jeepney.bus_messages.message_bus.Hello(): the bus daemon's Hello, no arguments.
        hello = self._message(_DBUS, "/org/freedesktop/DBus", _DBUS, "Hello", "", (), 1)
        data = auth.data_to_send() or b""
        self._send(b"\0" + data + self.auth.BEGIN + hello)
        line, rest = self._line()
        try:
            auth.feed(line)
        except self.auth.AuthenticationError:
            raise NotServed from None
        if not auth.authenticated:
            raise NotServed
        self.parser.add_data(rest)
        self._reply(1)

    def call(self, path: str, iface: str, method: str, signature: str, *body: object) -> tuple:
        """Send one method call to the Secret Service; its reply's body, once it has come."""
        self.serial += 1
        self._send(self._message(BUS_NAME, path, iface, method, signature, body, self.serial))
        return self._reply(self.serial)

    def get(self, path: str, iface: str, name: str) -> object:
        """One property's value (Properties.Get)."""
        properties = "org.freedesktop.DBus.Properties"
        ((_signature, value),) = self.call(path, properties, "Get", "ss", iface, name)
        return value

    def _send(self, data: bytes) -> None:
        self.timeout()
        self.sock.sendall(data)  # type: ignore[attr-defined]

    def _recv(self) -> bytes:
        self.timeout()
        data = self.sock.recv(4096)  # type: ignore[attr-defined]
        if not data:
            raise NotServed  # the bus closed the connection
        return data  # type: ignore[no-any-return]

    def timeout(self) -> None:
        """Give the socket what is left of the deadline; TimeoutError when nothing is."""
        import time

        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)  # type: ignore[attr-defined]

    def _line(self) -> tuple[bytes, bytes]:
        """The server's SASL answer line (with its CRLF), and the bytes after it."""
        data = b""
        while b"\r\n" not in data:
            if len(data) > 8192:
                raise NotServed
            data += self._recv()
        line, rest = data.split(b"\r\n", 1)
        return line + b"\r\n", rest

    def _reply(self, serial: int) -> tuple:
        """The body of the reply to ``serial``; signals (NameAcquired) are passed over."""
        reply_serial = self.low_level.HeaderFields.reply_serial
        method_return = self.low_level.MessageType.method_return
        while True:
            msg = self.parser.get_next_message()
            if msg is None:
                self.parser.add_data(self._recv())
                continue
            if msg.header.fields.get(reply_serial) != serial:
                continue
            if msg.header.message_type != method_return:
                raise NotServed  # an error reply: keyring meets it too, and says it its way
            return tuple(msg.body)


def _find(bus: _Bus, query: Mapping[str, str]) -> tuple[bytes, dict[str, str]] | None:
    """(secret, attributes) of the first item ``query`` finds in the default collection."""
    service = _IFACE + "Service"
    collection = _IFACE + "Collection"
    item = _IFACE + "Item"
    bus.connect()
    # SecretService.Keyring.get_preferred_collection: the default alias's collection, which must
    # exist (else keyring tries to create it, with a prompt) and be unlocked (else it prompts).
    # gnome-keyring's ReadAlias answers "/" for an alias whose collection does not exist, where
    # keyring's call on the alias path meets an error; secretstorage's get_collection_by_alias
    # takes any path of one character for none. Anything but a collection's path is NotServed.
    (path,) = bus.call(SERVICE_PATH, service, "ReadAlias", "s", DEFAULT_ALIAS)
    if path == "/":
        # Also what a first call handled before this client's set-up gets (the docstring's
        # second race); by its reply the set-up has run, so a second answer is the real one.
        (path,) = bus.call(SERVICE_PATH, service, "ReadAlias", "s", DEFAULT_ALIAS)
    if not (isinstance(path, str) and path.startswith(COLLECTION_PREFIX)):
        raise NotServed
    # secrets._read: Collection.search_items(query), the first item only.
    (paths,) = bus.call(path, collection, "SearchItems", "a{ss}", dict(query))
    if not paths:
        # keyring unlocks the collection before it searches (get_preferred_collection), so a
        # locked one is keyring's to report even when it would find nothing.
        if bus.get(path, collection, "Locked"):
            raise NotServed
        return None
    if not paths[0].startswith(path + "/"):  # gnome-keyring builds them on the path it was sent
        raise NotServed
    attributes = bus.get(paths[0], item, "Attributes")
    # Item.get_secret opens a session when it has none (here a plain one: see the docstring).
    # The item of a locked collection is locked too, and its GetSecret is the Secret Service's
    # IsLocked error reply (NotServed), where keyring would prompt: an item found needs no
    # Locked call first, which saves the common read a round trip.
    (_output, session) = bus.call(SERVICE_PATH, service, "OpenSession", "sv", "plain", ("s", ""))
    ((_session, _params, value, _content_type),) = bus.call(
        paths[0], item, "GetSecret", "o", session
    )
    return bytes(value), dict(attributes)  # type: ignore[call-overload]
