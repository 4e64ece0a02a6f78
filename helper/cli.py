"""The executable: argv dispatch, and the one place where errors become exit codes."""

from __future__ import annotations

import gc
import os
import sys

from readystack.store import errors

from . import __version__
from .lookup import protocol

# The verbs Docker runs on every pull only read. Such a process lives a few milliseconds, so the
# cyclic collector (triggered by import allocations) and interpreter teardown are pure cost,
# about a fifth of a lookup; `run` skips both for them.
_READ_ONLY = [[verb] for verb in (*protocol.READ_ONLY, *protocol.VERSION)]
if sys.argv[1:] in _READ_ONLY:
    gc.disable()

PROTOCOL_HELP = f"""{protocol.USAGE}

Docker credential helper serving ReadyStackGo's registry credentials (with image patterns),
then Docker config files, to every client of the credential-helper protocol.

Protocol verbs (called by docker, compose, docker-py, skopeo/podman; input on stdin):
  get         server URL, host or host/repository -> {{"ServerURL","Username","Secret"}}
  store       {{"ServerURL","Username","Secret"}} -> keeps a `docker login`
  erase       server URL -> forgets a `docker login`
  list        -> {{server: username}}
  version     prints the version (also -v, --version); `version --verbose` adds the
              libraries it runs with (Python, SQLite, OpenSSL, libpq) and which are bundled

Management and debugging verbs (for people; each takes --help and --db PATH):
"""
# Every variable the code reads (tests/process/test_first_hour.py checks it against the code).
ENVIRONMENT = """
Environment (the README says what each does):
  database      READYSTACK_DB, ConnectionStrings__ReadyStackGo, DataPath, XDG_DATA_HOME
  config files  XDG_CONFIG_HOME, HOME, DOCKER__CONFIGPATH, READYSTACK_APPSETTINGS, DOCKER_CONFIG
  behaviour     READYSTACK_SECRETS=keyring (PYTHON_KEYRING_BACKEND), READYSTACK_READONLY=1,
                READYSTACK_IMAGE_HINT=0
  keyring       DBUS_SESSION_BUS_ADDRESS (the session bus of the Secret Service that holds
                a row's secret, as keyring finds it)
  debug log     READYSTACK_LOG=debug, READYSTACK_LOG_FILE=PATH, or ReadyStackGo's
                Logging__LogLevel__ReadyStackGo.Infrastructure.Docker=Debug
  other helpers PATH (where a Docker config's helper is found), READYSTACK_DELEGATED (set by
                this helper for the helper it asks, which then asks no further)
  online checks HTTPS_PROXY, HTTP_PROXY, NO_PROXY, READYSTACK_CERTS_D, READYSTACK_DAEMON_JSON
  ReadyStackGo  DOCKER_HOST (configure-docker --readystackgo)
  compose v2    XDG_RUNTIME_DIR (where the one `config` run's result is kept); in compose's own
                environment, DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND tells the plugin from the
                standalone binary
"""


def help_text() -> str:
    """The full help: the protocol verbs, then every management verb from the verb table."""
    from .manage.verbs import help_lines

    return PROTOCOL_HELP + "\n".join(help_lines()) + "\n" + ENVIRONMENT


# What the shell reports for a tool that SIGPIPE ended (128 + 13): `explain … | head -1`
# ends like `yes | head -1`, so a caller with `set -o pipefail` sees what any Unix tool gives.
READER_GONE = 141


def _write(text: str) -> None:
    out = sys.stdout.buffer
    out.write(text.encode("utf-8", "backslashreplace"))
    out.flush()


def _reader_gone() -> int:
    """Stdout's reader went away: exit quietly, as Python's signal docs advise for SIGPIPE."""
    # Point stdout at /dev/null so that the interpreter's final flush cannot fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return READER_GONE


# A protocol verb given arguments (`get ghcr.io`, `get --help`): stdout keeps the protocol's usage
# line, and stderr says, in one line, where the verb reads its input.
_STDIN_HINTS = {
    "get": f"get reads the server from stdin: echo ghcr.io | {protocol.NAME} get",
    "erase": f"erase reads the server from stdin: echo ghcr.io | {protocol.NAME} erase",
    "store": (
        'store reads {"ServerURL","Username","Secret"} as JSON from stdin (docker login sends '
        f"it); to add credentials by hand: {protocol.NAME} registry add NAME --url URL "
        "--username U --password-stdin"
    ),
    "list": f"list takes no argument: {protocol.NAME} list",
}


def _unknown_verb(args: list[str]) -> None:
    """Stderr, for people: the verbs there are, and the one that was probably meant."""
    import difflib

    from .manage.verbs import FIRST_WORDS, help_lines

    known = [*protocol.VERBS, protocol.VERSION[0], *sorted(FIRST_WORDS)]
    close = difflib.get_close_matches(args[0], known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    lines = [f"{protocol.NAME}: unknown verb {args[0]!r}{hint}"]
    if len(args) > 1:  # a person typing a management verb: show every verb
        verbs = ", ".join((*protocol.VERBS, protocol.VERSION[0]))
        lines += [f"Protocol verbs: {verbs}", "Management verbs:"]
        lines += help_lines()
        lines.append(f"{protocol.NAME} --help explains each one.")
    sys.stderr.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run one verb and return the exit status."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 1:
        verb = args[0]
        if verb in protocol.VERBS:
            return _protocol(verb)
        if verb in protocol.VERSION:
            _write(f"{protocol.NAME} ({protocol.NAME}) {__version__}\n")
            return 0
        if verb in ("-h", "--help"):
            _write(help_text())
            return 0
    if args == ["version", "--verbose"]:
        # A person's form (Docker only ever sends `version` alone, which stays one line).
        from .manage.versions import report

        _write(report())
        return 0
    if args:
        from .manage.verbs import FIRST_WORDS

        if args[0] in FIRST_WORDS:
            return _admin(args)
    if args and args[0] not in protocol.VERBS:
        _unknown_verb(args)
    elif args:
        sys.stderr.write(f"{protocol.NAME}: {_STDIN_HINTS[args[0]]}\n")
    # stdout keeps exactly what docker-credential-helpers prints, for the programs that read it.
    if len(args) != 1:
        _write(protocol.USAGE + "\n")
        return 1
    _write(f"{protocol.NAME}: unknown action: {args[0]}\n")
    return 1


def run() -> None:
    """The executable's entry point: ``main()``, then a quick exit for the read-only verbs."""
    # A closed stdout or stderr (`>&-`) is None here: nobody reads it, so write nowhere.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        status = _reader_gone()
    except KeyboardInterrupt:  # Ctrl-C at a terminal prompt: no traceback, the shell's status
        sys.stderr.write("\n")
        status = 130
    # Keep the ordinary exit where threads may exist (the keyring path starts D-Bus threads).
    if sys.argv[1:] in _READ_ONLY and "threading" not in sys.modules:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(status)  # the ordinary exit reports a broken stdout
        import atexit

        atexit._run_exitfuncs()
        os._exit(status)
    sys.exit(status)


def _protocol(verb: str) -> int:
    # A lookup loads only the read verbs; store and erase (docker login/logout) live apart.
    if verb in protocol.READ_ONLY:
        from .lookup import actions as verbs
    else:
        from .lookup import logins as verbs

    environ = os.environ
    try:
        if verb == "list":
            out = verbs.list_(environ)  # never reads stdin: it may be a terminal
        else:
            out = getattr(verbs, verb)(_read_stdin(verb), environ)
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        if _reported(exc, errors.STDOUT):
            return _say(exc)
        from readystack.store.diag import warn

        warn(f"{verb} failed: {_first_line(exc)} (READYSTACK_LOG=debug shows where)")
        _traceback_if_debug()
        # Anything else (a management error, a bug) still answers on stdout, as the clients
        # expect: a lookup that breaks must not fail the pull, so `get` answers not-found.
        _write(f"{protocol.NOT_FOUND if verb == 'get' else _store_error(verb, exc)}\n")
        return 1
    if out:
        _write(out)
    return 0


def _read_stdin(verb: str) -> bytes:
    """The protocol input; a closed stdin (`<&-`, None here) is empty input."""
    if sys.stdin is None:
        return b""
    if sys.stdin.isatty():
        # A person ran the verb by hand: say what Docker would have sent.
        what = "a JSON credentials payload" if verb == "store" else "a server URL or host"
        sys.stderr.write(
            f"{protocol.NAME}: {verb} reads {what} from stdin (Docker sends it); type it and "
            "press Enter, then Ctrl-D\n"
        )
    return protocol.read_input(sys.stdin.buffer)


def _store_error(verb: str, exc: Exception) -> str:
    return f"{protocol.NAME}: {verb} failed: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    """The first line of the exception's text; ``internal error`` when that line is empty."""
    text = str(exc)
    return (text.splitlines()[0] if text else "") or "internal error"


def _traceback_if_debug() -> None:
    """With READYSTACK_LOG=debug, the traceback on stderr: the "where" the messages promise."""
    from readystack.store.diag import DEBUG

    if DEBUG:
        import traceback

        traceback.print_exc(file=sys.stderr)


def _admin(args: list[str]) -> int:
    from .manage import admin

    try:
        return admin.main(args, os.environ)
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise  # the reader went away: `run` ends quietly
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        if _reported(exc, errors.STDOUT, errors.STDERR):
            return _say(exc)
        sys.stderr.write(
            f"{protocol.NAME}: {args[0]} failed: {_first_line(exc)} "
            "(READYSTACK_LOG=debug shows where)\n"
        )
        _traceback_if_debug()
        return 1


def _reported(exc: Exception, *streams: str) -> bool:
    """True when store/errors.py's table says ``exc`` is said as it is, on one of ``streams``."""
    return isinstance(exc, errors.ReadyStackError) and exc.reported and exc.stream in streams


def _say(exc: errors.ReadyStackError) -> int:
    """Say a reported error where its class says (stdout: as it is), and give its exit code."""
    if exc.stream == errors.STDOUT:
        _write(f"{exc}\n")
    else:
        sys.stderr.write(f"{protocol.NAME}: {exc}\n")
    return exc.exit_code
