"""Docker config files as a fallback source: credHelpers, credsStore, then auths, per file."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping

from . import hosts
from .conventions import NOT_FOUND, SELF, TOKEN_USERNAME, Answer
from .diag import warn
from .errors import HostError
from .jsonread import BadJSON, read_json
from .verberrors import ConfigError

DELEGATE_TIMEOUT = 10.0
Trace = Callable[[str], None]


def existing_files(candidates: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The candidates that exist, each real file once, in order."""
    return each_file_once([(path, how) for path, how in candidates if os.path.isfile(path)])


def each_file_once(candidates: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The candidates with each real file named once (the first naming wins), in order."""
    seen: set[str] = set()
    out = []
    for path, how in candidates:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            out.append((path, how))
    return out


def load(path: str, missing_ok: bool = False) -> dict:
    """Parse one config file; raises ConfigError for unreadable or malformed files.

    ``missing_ok``: a missing file is an empty config (for a file about to be written).
    """
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8-sig")
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({_reason(exc)})") from None
    try:
        data = read_json(text) if text.strip() else {}
    except BadJSON as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a JSON object")
    return data


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or "not UTF-8"


def save(path: str, data: dict) -> None:
    """Write through a temp file and rename, following a symlink, keeping mode, owner and group."""
    import json
    import tempfile

    from .faultpoint import reached

    real = os.path.realpath(path)
    folder = os.path.dirname(real)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        old = os.stat(real) if os.path.exists(real) else None
        fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=folder)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}; it was not changed") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent="\t")
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        _copy_permissions(old, tmp)
        reached("after-config-fsync")
        os.replace(tmp, real)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ConfigError(f"cannot write {path}: {exc.strerror}; it was not changed") from None
    reached("after-config-rename")
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    # The rename itself survives a power cut only once the folder is on disk; too late to undo
    # it now, so a failure here is not an error (the new file is already what Docker reads).
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _copy_permissions(old: os.stat_result | None, tmp: str) -> None:
    # As docker/cli's copyFilePermissions (cli/config/configfile/file_unix.go): the old file's
    # mode (0600 for a new one), and its owner and group when neither is root, so that root
    # editing a user's config does not lock the user out of it.
    os.chmod(tmp, stat.S_IMODE(old.st_mode) if old and stat.S_ISREG(old.st_mode) else 0o600)
    if old is not None and old.st_uid > 0 and old.st_gid > 0:
        try:
            os.chown(tmp, old.st_uid, old.st_gid)
        except OSError:
            pass  # not root: the file is ours anyway, as docker/cli ignores this error too


def keys_for(host: str) -> list[str]:
    """credHelpers keys for a host: Docker Hub under both names docker and skopeo/podman look up."""
    return [hosts.HUB_SERVER_URL, hosts.HUB] if hosts.is_hub(host) else [host]


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
        except HostError:
            continue
    return None


def lookup(
    path: str, host: str, environ: Mapping[str, str], trace: Trace | None = None
) -> Answer | None:
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
    return Answer(creds[0], creds[1], f"auths[{key!r}] in {path}")


def decode_auth_entry(entry: object) -> tuple[str, str] | None:
    """(username, secret) from an ``auths`` entry: identitytoken, ``auth``, or plain fields."""
    if not isinstance(entry, dict):
        return None
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return TOKEN_USERNAME, token
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


def delegate(name: object, host: str, environ: Mapping[str, str], note: Trace) -> Answer | None:
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


def _parse_answer(out: str, program: str, server: str, note: Trace) -> Answer | None:
    try:
        answer = read_json(out, first=True)
    except BadJSON:
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
    return Answer(user, secret, f"docker-credential-{program[18:]} get {server}")


def _silent(_: str) -> None:
    return None


def hosts_without_helper(config: dict, wanted: list[str]) -> list[str]:
    """The hosts of ``wanted`` with no credHelpers entry naming this helper.

    skopeo, podman and buildah read credHelpers only (never credsStore), so such a host reaches
    this helper from the docker CLI at most, and only through credsStore.
    """
    helpers = config.get("credHelpers")
    helpers = helpers if isinstance(helpers, dict) else {}
    return [h for h in wanted if not any(helpers.get(k) == SELF for k in keys_for(h))]


def plaintext_auths(config: dict) -> list[str]:
    """The ``auths`` keys whose credentials sit in the file itself (base64 is not encryption)."""
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return []
    found = []
    for key, entry in auths.items():
        if isinstance(entry, dict) and any(
            isinstance(entry.get(f), str) and entry.get(f)
            for f in ("auth", "password", "identitytoken")
        ):
            found.append(str(key))
    return found
