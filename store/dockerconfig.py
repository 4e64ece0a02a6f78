"""Docker config files as a fallback source: credHelpers, credsStore, then auths, per file."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping

from . import hosts
from .diag import warn

SELF = "readystack"
DELEGATE_TIMEOUT = 10.0
NOT_FOUND = "credentials not found in native keychain"
Trace = Callable[[str], None]


class ConfigError(Exception):
    """A config file that cannot be read or parsed; the lookup moves on to the next file."""


class Found:
    """Credentials found in a config file, and where."""

    __slots__ = ("username", "secret", "origin")

    def __init__(self, username: str, secret: str, origin: str) -> None:
        self.username = username
        self.secret = secret
        self.origin = origin

    def __repr__(self) -> str:
        return f"Found(username={self.username!r}, origin={self.origin!r})"


def existing_files(candidates: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The candidates that exist, each real file once, in order."""
    seen: set[str] = set()
    out = []
    for path, how in candidates:
        if not os.path.isfile(path):
            continue
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            out.append((path, how))
    return out


def load(path: str) -> dict:
    """Parse one config file; raises ConfigError for unreadable or malformed files."""
    import json

    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8-sig") or "{}")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: {type(exc).__name__}: {exc}") from None
    except RecursionError:
        # `[[[[…` a hundred thousand deep: skipped like any file that cannot be parsed.
        raise ConfigError(f"{path}: nested too deeply to be a Docker config") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a JSON object")
    return data


def _entry_for(table: object, host: str) -> tuple[str, object] | None:
    """The entry of a host-keyed map for ``host``, matched as the docker CLI matches keys.

    The exact key Docker would use first, then any key whose host part (scheme and path dropped,
    Docker Hub's aliases folded) is ``host``, in file order.
    """
    if not isinstance(table, dict):
        return None
    exact = hosts.server_key(host)
    if exact in table:
        return exact, table[exact]
    for key, value in table.items():
        if not isinstance(key, str) or key in hosts.OAUTH_KEYS:
            continue
        try:
            if hosts.host_of_url(key) == host:
                return key, value
        except hosts.HostError:
            continue
    return None


def lookup(
    path: str, host: str, environ: Mapping[str, str], trace: Trace | None = None
) -> Found | None:
    """Credentials for ``host`` (canonical) in one config file, in Docker's order."""
    config = load(path)
    note = trace or _silent
    helpers = _entry_for(config.get("credHelpers"), host)
    if helpers is not None:
        key, name = helpers
        note(f"credHelpers[{key!r}] = {name!r}")
        found = delegate(name, host, environ, note)
        if found:
            return found
    store = config.get("credsStore")
    if store:
        note(f"credsStore = {store!r}")
        found = delegate(store, host, environ, note)
        if found:
            return found
    entry = _entry_for(config.get("auths"), host)
    if entry is None:
        note("no auths entry for this host")
        return None
    key, value = entry
    creds = decode_auth_entry(value)
    if creds is None:
        note(f"auths[{key!r}] holds no credentials (a helper marker or an empty entry)")
        return None
    note(f"auths[{key!r}] has credentials for {creds[0]!r}")
    return Found(creds[0], creds[1], f"auths[{key!r}] in {path}")


def decode_auth_entry(entry: object) -> tuple[str, str] | None:
    """(username, secret) from an ``auths`` entry: identitytoken, ``auth``, or plain fields."""
    if not isinstance(entry, dict):
        return None
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return "<token>", token
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        import base64
        import binascii

        try:
            decoded = base64.b64decode(auth + "=" * (-len(auth) % 4), validate=True).decode()
        except (binascii.Error, ValueError):
            warn("skipping an auths entry whose auth is not valid base64")
            return None
        user, colon, secret = decoded.partition(":")
        if not colon or not user:
            warn("skipping an auths entry whose auth is not user:password")
            return None
        return user, secret.strip("\x00")
    user, secret = entry.get("username"), entry.get("password")
    if isinstance(user, str) and user and isinstance(secret, str):
        return user, secret
    return None


def delegate(name: object, host: str, environ: Mapping[str, str], note: Trace) -> Found | None:
    """Ask another credential helper, as Docker would; never ourselves, never twice removed."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
        warn(f"refusing credential helper name {name!r}")
        return None
    if name == SELF:
        note("that is this helper: not asked again")
        return None
    if environ.get("READYSTACK_DELEGATED"):
        note("READYSTACK_DELEGATED is set: this lookup was itself delegated, so no further helper")
        return None
    program = f"docker-credential-{name}"
    exe = look_path(program, environ.get("PATH"))
    if exe is None:
        return None
    from . import lineage

    if lineage.is_self(exe):
        note(f"{exe} is this helper itself: not asked again")
        return None
    if lineage.ancestor_is_self():
        warn(f"not running {program}: this lookup already runs under this helper (a loop)")
        return None
    server = hosts.server_key(host)
    import subprocess

    env = dict(environ)
    env["READYSTACK_DELEGATED"] = "1"
    try:
        done = subprocess.run(
            [exe, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=DELEGATE_TIMEOUT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        warn(f"{program} did not answer within {DELEGATE_TIMEOUT:g} s; skipped")
        return None
    except OSError as exc:
        warn(f"{program} could not be run ({exc.strerror}); skipped")
        return None
    out = done.stdout.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        if out == NOT_FOUND:
            note(f"{program} has no credentials for {server}")
        else:
            # Its output is never repeated: a helper that fails may still have printed a secret.
            warn(f"{program} failed (exit {done.returncode}); skipped")
        return None
    return _parse_answer(out, program, server, note)


def look_path(program: str, path: str | None) -> str | None:
    """``program`` in the absolute PATH entries, as Go's os/exec LookPath (lp_unix.go) finds it.

    Go refuses a result that is relative to the current directory (ErrDot, since Go 1.19): an
    empty or relative PATH entry must never run a program from wherever the lookup happens to
    run. A program found there is refused with one stderr line; nothing further is searched.
    """
    for folder in (path if path is not None else os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", program)
        try:
            info = os.stat(candidate)
        except OSError:
            continue
        if not (stat.S_ISREG(info.st_mode) and info.st_mode & 0o111):
            continue  # Go's findExecutable: not a directory, some execute bit set
        if not os.path.isabs(candidate):
            warn(f"refusing {candidate}: found through the relative PATH entry {folder!r}")
            return None
        return candidate
    warn(f"credential helper {program} is not on PATH; skipped")
    return None


def _parse_answer(out: str, program: str, server: str, note: Trace) -> Found | None:
    import json

    try:
        answer, _ = json.JSONDecoder().raw_decode(out)
    except (ValueError, RecursionError):
        warn(f"{program} answered something that is not JSON; skipped")
        return None
    if not isinstance(answer, dict):
        warn(f"{program} answered something that is not a JSON object; skipped")
        return None
    user, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(user, str) or not isinstance(secret, str):
        warn(f"{program} answered without string Username/Secret; skipped")
        return None
    if not user and not secret:
        note(f"{program} answered empty credentials for {server}")
        return None
    note(f"{program} answered credentials for {user!r}")
    return Found(user, secret, f"docker-credential-{program[18:]} get {server}")


def _silent(_: str) -> None:
    return None
