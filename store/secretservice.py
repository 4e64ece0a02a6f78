"""`get`'s fast read of a row's Secret Service item over D-Bus (jeepney), without keyring.

It reads exactly what `secrets._read` reads through keyring's SecretService backend
(keyring/backends/SecretService.py, secretstorage/collection.py and item.py, as installed):
the collection at the ``default`` alias, its first item from ``SearchItems`` on
``{service, username}``, that item's ``host`` attribute, then its secret. It answers only the
plain, expected cases: an unlocked default collection, an unlocked item or none. Everything else
(no session bus, a bus it cannot trust, no default collection, a locked collection or item, any
D-Bus error) is ``None``: the caller then goes through keyring as before, so those outcomes and
their messages are keyring's own, by construction.

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


class NotServed(Exception):
    """The fast read cannot decide this case; keyring must."""


Check = Callable[[Mapping[str, str]], bool]


def read(service: str, row_id: str, check: Check) -> tuple[str, bool] | None:
    """(secret, check's answer) of the row's item, None when there is none.

    Raises NotServed when keyring must decide. ``check`` sees the item's attributes before its
    secret is asked for, and may raise.
    A Secret Service that stops answering raises TimeoutError after REPLY_TIMEOUT.
    """
    if any(_PROPERTY_MARK in name for name in os.environ):
        raise NotServed
    try:
        from jeepney.io.blocking import open_dbus_connection
    except ImportError:
        raise NotServed from None
    try:
        # What secretstorage.dbus_init() opens: the first unix address in DBUS_SESSION_BUS_ADDRESS.
        conn = open_dbus_connection(bus="SESSION")
    except Exception:  # noqa: BLE001 - no variable, bad address, refused: keyring says which
        raise NotServed from None
    try:
        _check_peer(conn.sock)
        return _find(_Bus(conn), service, row_id, check)
    finally:
        conn.close()


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
    """Method calls to the Secret Service on one connection; an error reply is NotServed."""

    def __init__(self, conn: object) -> None:
        self.conn = conn

    def call(self, path: str, iface: str, method: str, signature: str, *body: object) -> tuple:
        from jeepney import DBusAddress, MessageType, new_method_call

        msg = new_method_call(DBusAddress(path, BUS_NAME, iface), method, signature, body)
        reply = self.conn.send_and_get_reply(msg, timeout=REPLY_TIMEOUT)  # type: ignore[attr-defined]
        if reply.header.message_type != MessageType.method_return:
            raise NotServed
        return tuple(reply.body)

    def prop(self, path: str, iface: str, name: str) -> object:
        (_signature, value) = self.call(
            path, "org.freedesktop.DBus.Properties", "Get", "ss", iface, name
        )[0]
        return value


def _find(bus: _Bus, service: str, row_id: str, check: Check) -> tuple[str, bool] | None:
    # SecretService.Keyring.get_preferred_collection: the default alias, which must exist
    # (secretstorage raises ItemNotFoundException, keyring InitError) and be unlocked (keyring
    # would prompt to unlock it).
    if bus.prop(DEFAULT_COLLECTION, _IFACE + "Collection", "Locked"):
        raise NotServed
    # secrets._read: Collection.search_items({service, username}), the first item only.
    (paths,) = bus.call(
        DEFAULT_COLLECTION,
        _IFACE + "Collection",
        "SearchItems",
        "a{ss}",
        {"service": service, "username": row_id},
    )
    if not paths:
        return None
    item = paths[0]
    verdict = check(dict(bus.prop(item, _IFACE + "Item", "Attributes")))  # type: ignore[call-overload]
    if bus.prop(item, _IFACE + "Item", "Locked"):
        raise NotServed  # keyring's unlock() would prompt
    (_output, session) = bus.call(
        SERVICE_PATH, _IFACE + "Service", "OpenSession", "sv", "plain", ("s", "")
    )
    ((_session, _params, value, _content_type),) = bus.call(
        item, _IFACE + "Item", "GetSecret", "o", session
    )
    try:
        secret = bytes(value).decode("utf-8")  # keyring: item.get_secret().decode('utf-8')
    except UnicodeDecodeError:
        raise NotServed from None
    return secret, verdict
