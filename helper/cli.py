"""The executable: argv dispatch, and the one place where errors become exit codes."""

from __future__ import annotations

import gc
import os
import sys

from . import __version__, protocol

# The verbs Docker runs on every pull only read. Such a process lives a few milliseconds, so the
# cyclic collector (triggered by import allocations) and interpreter teardown are pure cost,
# about a fifth of a lookup; `run` skips both for them.
_READ_ONLY = (["get"], ["list"], ["version"], ["-v"], ["--version"])
if sys.argv[1:] in _READ_ONLY:
    gc.disable()

PROTOCOL_VERBS = ("get", "store", "erase", "list")

PROTOCOL_HELP = f"""{protocol.USAGE}

Docker credential helper serving ReadyStackGo's registry credentials (with image patterns),
then Docker config files, to every client of the credential-helper protocol.

Protocol verbs (called by docker, compose, docker-py, skopeo/podman; input on stdin):
  get         server URL, host or host/repository -> {{"ServerURL","Username","Secret"}}
  store       {{"ServerURL","Username","Secret"}} -> keeps a `docker login`
  erase       server URL -> forgets a `docker login`
  list        -> {{server: username}}
  version     prints the version (also -v, --version)

Management and debugging verbs (for people; each takes --help and --db PATH):
"""
ENVIRONMENT = """
Environment: READYSTACK_DB, DataPath, DOCKER__CONFIGPATH, DOCKER_CONFIG, READYSTACK_SECRETS,
READYSTACK_READONLY, READYSTACK_IMAGE_HINT=0, READYSTACK_LOG=debug, READYSTACK_LOG_FILE.
See the README.
"""


def help_text() -> str:
    """The full help: the protocol verbs, then every management verb from the verb table."""
    from .verbs import help_lines

    return PROTOCOL_HELP + "\n".join(help_lines()) + "\n" + ENVIRONMENT


def _write(text: str) -> None:
    out = sys.stdout.buffer
    out.write(text.encode("utf-8", "backslashreplace"))
    out.flush()


def main(argv: list[str] | None = None) -> int:
    """Run one verb and return the exit status."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 1:
        verb = args[0]
        if verb in PROTOCOL_VERBS:
            return _protocol(verb)
        if verb in ("version", "-v", "--version"):
            _write(f"{protocol.NAME} ({protocol.NAME}) {__version__}\n")
            return 0
        if verb in ("-h", "--help"):
            _write(help_text())
            return 0
    if args:
        from .verbs import FIRST_WORDS

        if args[0] in FIRST_WORDS:
            return _admin(args)
    if len(args) != 1:
        _write(protocol.USAGE + "\n")
        return 1
    _write(f"{protocol.NAME}: unknown action: {args[0]}\n")
    return 1


def run() -> None:
    """The executable's entry point: ``main()``, then a quick exit for the read-only verbs."""
    status = main()
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
    from . import actions

    environ = os.environ
    try:
        if verb == "list":
            out = actions.list_(environ)  # never reads stdin: it may be a terminal
        else:
            data = protocol.read_input(sys.stdin.buffer)
            out = getattr(actions, verb)(data, environ)
    except protocol.HelperError as exc:
        _write(f"{exc}\n")
        return 1
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        from readystack.store.diag import DEBUG, warn

        warn(f"{verb} failed: {type(exc).__name__}: {_first_line(exc)}")
        if DEBUG:
            import traceback

            traceback.print_exc(file=sys.stderr)
        # A lookup that breaks must not fail the pull: answer not-found, as the clients expect.
        _write(f"{protocol.NOT_FOUND if verb == 'get' else _store_error(verb, exc)}\n")
        return 1
    if out:
        _write(out)
    return 0


def _store_error(verb: str, exc: Exception) -> str:
    return f"{protocol.NAME}: {verb} failed: {type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else ""


def _admin(args: list[str]) -> int:
    from readystack.store import dockerconfig, registries, secrets
    from readystack.store.diag import DEBUG

    from . import admin
    from .adminlib import AdminError

    try:
        return admin.main(args, os.environ)
    except (
        AdminError,
        registries.DatabaseError,
        secrets.SecretStoreError,
        dockerconfig.ConfigError,
    ) as exc:
        sys.stderr.write(f"{protocol.NAME}: {exc}\n")
        return 1
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        sys.stderr.write(
            f"{protocol.NAME}: {args[0]} failed: {_first_line(exc) or 'internal error'} "
            "(READYSTACK_LOG=debug shows where)\n"
        )
        if DEBUG:
            import traceback

            traceback.print_exc(file=sys.stderr)
        return 1
