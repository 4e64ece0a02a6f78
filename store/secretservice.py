"""`get`'s fast read of a row's Secret Service item over D-Bus (jeepney), without keyring.

It reads exactly what `secrets._read` reads through keyring's SecretService backend
(keyring/backends/SecretService.py, secretstorage/collection.py and item.py, as installed):
the collection at the ``default`` alias, its first item from ``SearchItems`` on
``{service, username}``, that item's ``host`` attribute, then its secret. It answers only the
plain, expected cases: an unlocked default collection, an unlocked item or none. Everything else
(no session bus, a bus it cannot trust, no default collection, a locked collection or item, any
D-Bus error) raises NotServed: the caller then goes through keyring as before, so those outcomes
and their messages are keyring's own, by construction.

Speed: jeepney's I/O-free core (its Authenticator, Message serialisation and Parser) over one
blocking unix socket, in two pipelined writes instead of eight round trips: the SASL lines,
BEGIN, Hello and the first three calls (the collection's Locked, SearchItems, OpenSession) go
out together, then the item's Attributes and GetSecret. The D-Bus specification lets a client
pipeline its SASL commands and BEGIN, the server replying once per command before the message
stream starts (the "BEGIN command" section); libdbus's server keeps the bytes after BEGIN as the
first messages. Any surprise on the way is NotServed, and keyring reads as before.

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
from collections.abc import Callable, Mapping

from .errors import Internal

BUS_NAME = "org.freedesktop.secrets"
# secretstorage.collection.DEFAULT_COLLECTION: keyring's collection when none is preferred.
DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
SERVICE_PATH = "/org/freedesktop/secrets"
_IFACE = "org.freedesktop.Secret."
# D-Bus calls to gnome-keyring answer in milliseconds; libdbus's default reply timeout is 25 s.
REPLY_TIMEOUT = 25.0
# keyring's KeyringBackend.set_properties_from_env sets an attribute for every environment
# variable whose name contains this (KEYRING_PROPERTY_PREFERRED_COLLECTION picks another
# collection): with any of them set, the read is keyring's.
_PROPERTY_MARK = "KEYRING_PROPERTY_"


class NotServed(Internal):
    """The fast read cannot decide this case; keyring must."""


Check = Callable[[Mapping[str, str]], bool]


def read(query: Mapping[str, str], check: Check) -> tuple[str, bool] | None:
    """(secret, check's answer) of the first item ``query`` finds, None when there is none.

    Raises NotServed when keyring must decide. ``check`` sees the item's attributes (after the
    connection is closed) before the secret is used, and may raise. A Secret Service that stops
    answering raises TimeoutError after REPLY_TIMEOUT.
    """
    if any(_PROPERTY_MARK in name for name in os.environ):
        raise NotServed
    try:
        from jeepney.bus import get_bus
    except ImportError:
        raise NotServed from None
    import socket

    try:
        # secretstorage.dbus_init's address: the first unix one in DBUS_SESSION_BUS_ADDRESS.
        address = get_bus("SESSION")
    except Exception:  # noqa: BLE001 - unset, unparsable, not unix: keyring says which
        raise NotServed from None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        bus = _Bus(sock)
        try:
            bus.timeout()
            sock.connect(address)
            _check_peer(sock)
            found = _find(bus, query)
        except (NotServed, TimeoutError):
            raise
        except Exception:  # noqa: BLE001 - a reset connection, a malformed reply: keyring's turn
            raise NotServed from None
    if found is None:
        return None
    value, attributes = found
    verdict = check(attributes)
    try:
        return value.decode("utf-8"), verdict  # keyring: item.get_secret().decode('utf-8')
    except UnicodeDecodeError:
        raise NotServed from None


def _check_peer(sock: object) -> None:
    """Serve only when the bus daemon at the other end of the unix socket is this user's."""
    import socket
    import struct

    if not isinstance(sock, socket.socket) or sock.family != socket.AF_UNIX:
        raise NotServed
    size = struct.calcsize("3i")
    _pid, uid, _gid = struct.unpack(
        "3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, size)
    )
    if uid != os.getuid():
        raise NotServed


class _Bus:
    """Pipelined method calls on one socket; an error reply or a closed socket is NotServed."""

    def __init__(self, sock: object) -> None:
        import time

        from jeepney import Parser

        self.sock = sock
        self.deadline = time.monotonic() + REPLY_TIMEOUT
        self.parser = Parser()
        self.serial = 1  # Hello's

    def message(self, path: str, iface: str, method: str, signature: str, *body: object) -> bytes:
        """One method call to the Secret Service, serialised with the next serial."""
        from jeepney import DBusAddress, new_method_call

        msg = new_method_call(DBusAddress(path, BUS_NAME, iface), method, signature, body)
        self.serial += 1
        return msg.serialise(serial=self.serial)  # type: ignore[no-any-return]

    def prop(self, path: str, iface: str, name: str) -> bytes:
        """A Properties.Get call for one property."""
        return self.message(path, "org.freedesktop.DBus.Properties", "Get", "ss", iface, name)

    def connect(self, *calls: bytes) -> list[tuple]:
        """Authenticate, say Hello and send ``calls`` in one write; their replies' bodies."""
        from jeepney.auth import BEGIN, AuthenticationError, Authenticator
        from jeepney.bus_messages import message_bus

        auth = Authenticator(inc_null_byte=False)
        hello = message_bus.Hello().serialise(serial=1)
        self._send(b"\0" + (auth.data_to_send() or b"") + BEGIN + hello + b"".join(calls))
        line, rest = self._line()
        try:
            auth.feed(line)
        except AuthenticationError:
            raise NotServed from None
        if not auth.authenticated:
            raise NotServed
        self.parser.add_data(rest)
        return self._replies(range(1, self.serial + 1))[1:]

    def calls(self, *calls: bytes) -> list[tuple]:
        """Send ``calls`` in one write; their replies' bodies, in order."""
        first = self.serial - len(calls) + 1
        self._send(b"".join(calls))
        return self._replies(range(first, self.serial + 1))

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

    def _replies(self, serials: range) -> list[tuple]:
        """The bodies of the replies to ``serials``; signals (NameAcquired) are passed over."""
        from jeepney import HeaderFields, MessageType

        found: dict[int, tuple] = {}
        while len(found) < len(serials):
            msg = self.parser.get_next_message()
            if msg is None:
                self.parser.add_data(self._recv())
                continue
            to = msg.header.fields.get(HeaderFields.reply_serial)
            if to not in serials:
                continue
            if msg.header.message_type != MessageType.method_return:
                raise NotServed  # an error reply: keyring meets it too, and says it its way
            found[to] = tuple(msg.body)
        return [found[n] for n in serials]


def _find(bus: _Bus, query: Mapping[str, str]) -> tuple[bytes, dict[str, str]] | None:
    """(secret, attributes) of the first item ``query`` finds in the default collection."""
    collection = _IFACE + "Collection"
    # SecretService.Keyring.get_preferred_collection: the default alias, which must exist
    # (else keyring tries to create it, with a prompt) and be unlocked (else keyring prompts).
    # secrets._read: Collection.search_items(query), the first item only.
    # Item.get_secret opens a session when it has none (here a plain one: see the docstring).
    locked, (paths,), (_output, session) = bus.connect(
        bus.prop(DEFAULT_COLLECTION, collection, "Locked"),
        bus.message(DEFAULT_COLLECTION, collection, "SearchItems", "a{ss}", dict(query)),
        bus.message(SERVICE_PATH, _IFACE + "Service", "OpenSession", "sv", "plain", ("s", "")),
    )
    if locked[0][1]:
        raise NotServed
    if not paths:
        return None
    item = _IFACE + "Item"
    # A locked item's GetSecret is an error reply (NotServed), where keyring would prompt.
    (attributes,), ((_session, _params, value, _content_type),) = bus.calls(
        bus.prop(paths[0], item, "Attributes"),
        bus.message(paths[0], item, "GetSecret", "o", session),
    )
    return bytes(value), dict(attributes[1])
