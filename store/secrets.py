"""Where a row's secret lives: the Password column, or the OS keyring (imported only then)."""

from __future__ import annotations

import os

from . import settings
from .conventions import DATABASE, KEYRING_PREFIX, SECRET_STORES
from .diag import warn
from .errors import SecretStoreError

TYPE_CHECKING = False  # collections.abc serves annotations only: a keyring `get` never imports it
if TYPE_CHECKING:
    from collections.abc import Mapping

SERVICE = "docker-credential-readystack"
# Backends that would lose the secret or keep it in plaintext: refused, never a silent fallback.
_REFUSED = (
    "keyring.backends.fail.",
    "keyring.backends.null.",
    "keyrings.alt.file.PlaintextKeyring",
    "keyrings.alt.Gnome",
)
_ADVICE = (
    "start a Secret Service (for example gnome-keyring in a D-Bus session) or use "
    "READYSTACK_SECRETS=database"
)
# Reading a secret that is already in the keyring: only that keyring can give it back.
_READ_ADVICE = (
    "the secret is only in that keyring: run this where its Secret Service answers (the D-Bus "
    "session of the user who stored it)"
)
_NO_COLLECTION = (
    "the Secret Service has no default collection (keyring) to write to, and creating one "
    "needs a password prompt, which cannot be shown here (gnome-keyring unlocked with an empty "
    "password creates none); create it once in a desktop session (Passwords and Keys), or start "
    "gnome-keyring-daemon --unlock with a non-empty password on its stdin, or use "
    "READYSTACK_SECRETS=database"
)
_LOCKED = (
    "the Secret Service's default collection is locked, and unlocking it needs a password "
    "prompt, which cannot be shown here; unlock it (gnome-keyring-daemon --unlock, or log in to "
    "the desktop) or use READYSTACK_SECRETS=database"
)
_SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
_LIBSECRET = "keyring.backends.libsecret.Keyring"


def wanted_store(environ: dict[str, str] | os._Environ[str]) -> str:
    """Where new secrets go: READYSTACK_SECRETS, else the config file, else ``database``."""
    found = settings.lookup(environ, "secrets")
    if found is None:
        return DATABASE
    value = found[0].strip().lower()
    if value not in SECRET_STORES:
        allowed = " or ".join(map(repr, SECRET_STORES))
        raise SecretStoreError(f"{found[1]} says secrets = {value!r}; use {allowed}")
    return value


def class_path(backend: object) -> str:
    """The dotted class name that identifies a keyring backend."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _check(backend: object) -> object:
    name = class_path(backend)
    if name.startswith(_REFUSED) or "Plaintext" in name:
        raise SecretStoreError(f"keyring backend {name} cannot keep secrets safely; {_ADVICE}")
    return backend


def _import_keyring() -> object:
    try:
        import keyring
    except ImportError as exc:
        raise SecretStoreError(f"the keyring package is not available ({exc})") from None
    return keyring


def write_backend() -> object:
    """The keyring backend to put new secrets in, checked to be a real, safe one."""
    keyring = _import_keyring()
    # keyring itself reads PYTHON_KEYRING_BACKEND from the process environment, so this
    # check reads the same place rather than an environ passed in.
    if not os.environ.get("PYTHON_KEYRING_BACKEND"):
        # Naming the backend skips keyring's detection (~50 ms of probing and subprocesses).
        try:
            from keyring.backends import SecretService

            backend = SecretService.Keyring()
            if backend.priority > 0:  # raises when no Secret Service is reachable
                return backend
        except Exception:  # noqa: BLE001 - any failure here means: let keyring choose
            pass
    try:
        backend = keyring.get_keyring()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001
        raise SecretStoreError(
            f"no usable keyring backend ({_first_line(exc)}); {_ADVICE}"
        ) from None
    chained = getattr(backend, "backends", None)
    if chained is not None:
        usable = [b for b in chained if not class_path(b).startswith(_REFUSED)]
        if not usable:
            raise SecretStoreError(f"no usable keyring backend; {_ADVICE}")
        backend = usable[0]
    return _check(backend)


def check_writable(backend: object) -> None:
    """Raise SecretStoreError when a write would need a prompt: no default collection, or locked.

    keyring's Secret Service backend creates a missing default collection on first write, which
    needs a prompt; this only looks (secretstorage's Collection raises ItemNotFoundException for a
    missing collection and never creates one), so checking never writes.
    """
    backend = _check(backend)
    if class_path(backend) != _SECRET_SERVICE:
        return
    import secretstorage

    where = (
        getattr(backend, "preferred_collection", None)
        or secretstorage.collection.DEFAULT_COLLECTION
    )
    try:
        bus = secretstorage.dbus_init()
        try:
            locked = secretstorage.Collection(bus, where).is_locked()
        finally:
            bus.close()
    except secretstorage.exceptions.ItemNotFoundException:
        raise SecretStoreError(_NO_COLLECTION) from None
    except Exception as exc:  # noqa: BLE001 - D-Bus errors of every kind
        raise SecretStoreError(_describe(exc)) from None
    if locked:
        raise SecretStoreError(_LOCKED)


# keyring's own storage backends (jaraco/keyring, keyring/backends/: SecretService.py,
# libsecret.py, kwallet.py, macOS/__init__.py, Windows.py), each as the label `put` writes for it.
# The side table is data, so it only picks from this table: it never names a module to import.
# Left out on purpose: chainer (a dispatcher, never a store of its own), fail and null.
ALLOWED_BACKENDS = {
    _SECRET_SERVICE: ("keyring.backends.SecretService", "Keyring"),
    _LIBSECRET: ("keyring.backends.libsecret", "Keyring"),
    "keyring.backends.kwallet.DBusKeyring": ("keyring.backends.kwallet", "DBusKeyring"),
    "keyring.backends.kwallet.DBusKeyringKWallet4": (
        "keyring.backends.kwallet",
        "DBusKeyringKWallet4",
    ),
    "keyring.backends.macOS.Keyring": ("keyring.backends.macOS", "Keyring"),
    "keyring.backends.Windows.WinVaultKeyring": ("keyring.backends.Windows", "WinVaultKeyring"),
}
# Secret Service items carry attributes: the host goes into one of them. Other backends keep a
# plain (service, username) pair, so there the host is part of the username.
HOST_ATTRIBUTE = "host"


def backend_for(label: str) -> object:
    """The backend a row was written with (``keyring:<class>``), from ALLOWED_BACKENDS only."""
    name = label[len(KEYRING_PREFIX) :] if label.startswith(KEYRING_PREFIX) else ""
    where = ALLOWED_BACKENDS.get(name)
    if where is None:
        shown = ascii(label[:80])
        raise SecretStoreError(f"SecretStore {shown} is not one of keyring's own backends; ignored")
    _import_keyring()
    import importlib

    try:
        backend = getattr(importlib.import_module(where[0]), where[1])()
    except Exception as exc:  # noqa: BLE001
        raise SecretStoreError(f"keyring backend {name} is not available ({exc})") from None
    return _check(backend)


def _bound_key(row_id: str, host: str) -> str:
    # Backends without attributes: the host is in the key, so another host reads another entry.
    return f"{row_id}@{host}"


def put(backend: object, row_id: str, host: str, secret: str) -> str:
    """Store a row's secret bound to its host, read it back, and return its SecretStore label."""
    name = class_path(backend)
    if name not in ALLOWED_BACKENDS:
        raise SecretStoreError(f"keyring backend {name} is not one this helper can read back")
    try:
        check_writable(backend)
        if name == _SECRET_SERVICE:
            _put_item(backend, row_id, host, secret)
        else:
            backend.set_password(SERVICE, _bound_key(row_id, host), secret)  # type: ignore[attr-defined]
        if _read(backend, name, row_id, host) != (secret, True):
            raise SecretStoreError("the keyring did not keep the secret")
    except SecretStoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - D-Bus, locked collections, prompts…
        raise SecretStoreError(_describe(exc)) from None
    return KEYRING_PREFIX + name


def _put_item(backend: object, row_id: str, host: str, secret: str) -> None:
    # keyring's set_password cannot add an attribute, so the item is written the way
    # SecretService.Keyring.set_password writes it, plus the host; keyring's own get_password
    # (a search on service and username) still finds it.
    from contextlib import closing

    collection = backend.get_preferred_collection()  # type: ignore[attr-defined]
    with closing(collection.connection):
        for item in collection.search_items(_query(row_id)):
            item.delete()  # an unbound entry from before, or one for an older host
        attributes = {
            "service": SERVICE,
            "username": row_id,
            "application": backend.appid,  # type: ignore[attr-defined]
            HOST_ATTRIBUTE: host,
        }
        label = f"Password for '{row_id}' on '{SERVICE}' ({host})"
        collection.create_item(label, attributes, secret, replace=True)


def _read(backend: object, name: str, row_id: str, host: str) -> tuple[str | None, bool]:
    """(secret, bound): the entry for the row, and whether it is bound to a host at all."""
    if name != _SECRET_SERVICE:
        bound = backend.get_password(SERVICE, _bound_key(row_id, host))  # type: ignore[attr-defined]
        if bound is not None:
            return bound, True
        return backend.get_password(SERVICE, row_id), False  # type: ignore[attr-defined]
    from contextlib import closing

    collection = backend.get_preferred_collection()  # type: ignore[attr-defined]
    with closing(collection.connection):
        for item in collection.search_items(_query(row_id)):
            bound = _owned_by(item.get_attributes(), host)
            backend.unlock(item)  # type: ignore[attr-defined]
            return item.get_secret().decode("utf-8"), bound
    return None, False


def _query(row_id: str) -> dict[str, str]:
    """The attributes keyring's SecretService backend searches an entry by (its default scheme)."""
    return {"service": SERVICE, "username": row_id}


def _owned_by(attributes: Mapping[str, str], host: str) -> bool:
    """Whether a Secret Service item is bound to a host at all; HostMismatch for another host."""
    owner = attributes.get(HOST_ATTRIBUTE)
    if owner is not None and owner != host:
        from .verberrors import HostMismatch  # a lookup that succeeds never builds their classes

        raise HostMismatch(f"its keyring entry belongs to host {ascii(owner)[1:-1]}, not {host}")
    return owner is not None


def _read_explained(backend: object, row_id: str, host: str) -> tuple[str | None, bool]:
    """``_read``, with any failure of the backend said as a SecretStoreError with advice."""
    try:
        return _read(backend, class_path(backend), row_id, host)
    except SecretStoreError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise SecretStoreError(_describe(exc, _READ_ADVICE)) from None


# How long `get` lets keyring's read take. keyring, secretstorage and jeepney wait without a
# timeout: on a locked collection keyring asks for an unlock prompt and waits for it, forever when
# the prompt cannot appear (a headless session, or after a crash a fresh, locked gnome-keyring:
# readers hung ~15 minutes). The D-Bus calls themselves answer in milliseconds; the only long
# wait worth having is a person at a real prompt, who needs to notice it and type a password:
# tens of seconds. The kubelet kills a credential plugin after one minute, so the lock's wait
# (keyringlock.WAIT, 5 s) plus this one end before that, and the helper says why itself.
READ_DEADLINE = 45.0
# Under pytest only (store/faultpoint.py's rule): a shorter READ_DEADLINE, in seconds.
DEADLINE_KNOB = "READYSTACK_TEST_KEYRING_DEADLINE"
# Backends whose reads go to the Secret Service: `get` reads them under keyringlock's lock.
_ON_SECRET_SERVICE = {KEYRING_PREFIX + _SECRET_SERVICE, KEYRING_PREFIX + _LIBSECRET}


def get(label: str, row_id: str, host: str) -> tuple[str | None, bool]:
    """(secret, bound) of a row from the keyring; secret None when the entry is missing.

    ``bound`` is False for an entry written before entries were bound to their host.
    A Secret Service row is read straight over D-Bus when that can decide (secretservice.py);
    otherwise, and for every other backend, through keyring, within READ_DEADLINE. A Secret
    Service read holds keyringlock's lock (if it comes within its wait) from start to end.
    """
    if label not in _ON_SECRET_SERVICE:
        return _read_bounded(label, row_id, host)
    from .keyringlock import Held

    with Held():
        if label == KEYRING_PREFIX + _SECRET_SERVICE:
            from . import secretservice

            try:
                found = secretservice.read(_query(row_id), lambda a: _owned_by(a, host))
            except secretservice.NotServed:
                pass
            except TimeoutError:
                raise SecretStoreError(
                    f"no Secret Service answers on D-Bus (no reply in "
                    f"{secretservice.REPLY_TIMEOUT:.0f} s); {_READ_ADVICE}"
                ) from None
            else:
                return found or (None, False)
        return _read_bounded(label, row_id, host)


def _read_bounded(label: str, row_id: str, host: str) -> tuple[str | None, bool]:
    """keyring's read of a row (``_read_explained``), ended after READ_DEADLINE seconds."""
    from .deadline import Deadline
    from .faultpoint import knob

    seconds = float(knob(DEADLINE_KNOB) or READ_DEADLINE)
    text = (
        f"the keyring did not answer in {seconds:g} s (a locked keyring waiting for a password "
        f"prompt that no one answers, or a Secret Service that hangs); {_READ_ADVICE}"
    )
    expired: list[bool] = []

    def expire() -> None:
        expired.append(True)
        raise SecretStoreError(text)

    try:
        with Deadline(seconds, expire):
            return _read_explained(backend_for(label), row_id, host)
    except SecretStoreError:
        if expired:  # whatever keyring's code made of the interruption on its way out
            raise SecretStoreError(text) from None
        raise


def rebind(label: str, row_id: str, old_host: str, new_host: str) -> bool:
    """Bind a row's entry to ``new_host``: an unbound one (migration) or one for ``old_host``.

    Returns False when there was nothing to do (already bound to ``new_host``).
    """
    backend = backend_for(label)
    name = class_path(backend)
    secret, bound = _read_explained(backend, row_id, old_host)
    if secret is None:
        raise SecretStoreError("its keyring entry is missing")
    if bound and old_host == new_host:
        return False
    put(backend, row_id, new_host, secret)
    if name != _SECRET_SERVICE:
        for key in {row_id, _bound_key(row_id, old_host)} - {_bound_key(row_id, new_host)}:
            try:
                backend.delete_password(SERVICE, key)  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001, S110 - the old key may well be gone already
                pass
    return True


def delete(label: str, row_id: str, host: str) -> None:
    """Remove a row's keyring entries (bound and unbound); a missing entry is fine."""
    backend = backend_for(label)
    keys = [row_id]
    if class_path(backend) != _SECRET_SERVICE:
        keys.insert(0, _bound_key(row_id, host))
    for key in keys:
        try:
            backend.delete_password(SERVICE, key)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001
            if type(exc).__name__ == "PasswordDeleteError":
                continue
            raise SecretStoreError(_describe(exc, _READ_ADVICE)) from None


def forget(label: str, row_id: str, host: str) -> None:
    """Remove a row's keyring entry after its row changed; a failure is one stderr line."""
    try:
        delete(label, row_id, host)
    except SecretStoreError as exc:
        warn(f"could not delete the old keyring entry: {exc}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"


def _describe(exc: BaseException, advice: str = _ADVICE) -> str:
    """The real cause of a keyring failure, in words, with what to do; never a class name."""
    causes = {type(e).__name__ for e in (exc, exc.__cause__, exc.__context__) if e is not None}
    if "PromptDismissedException" in causes:
        return _NO_COLLECTION if advice is _ADVICE else f"a keyring prompt was dismissed; {advice}"
    if "KeyringLocked" in causes or "LockedException" in causes:
        return _LOCKED if advice is _ADVICE else f"the keyring is locked; {advice}"
    if "SecretServiceNotAvailableException" in causes:
        return f"no Secret Service answers on D-Bus ({_first_line(exc)}); {advice}"
    return f"keyring error: {_first_line(exc)}; {advice}"
