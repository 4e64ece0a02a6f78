"""The management verbs: one table that serves both the dispatch (`admin`) and `--help` (`cli`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from readystack.store.conventions import SECRET_STORES

if TYPE_CHECKING:
    import argparse

Options = Callable[["argparse.ArgumentParser"], None]


class Verb(NamedTuple):
    """One management verb: its words, its synopsis, and the function that runs it."""

    words: str  # "registry add"
    synopsis: str  # the operands and options, as the help shows them
    summary: str
    module: str  # its module below readystack.helper, e.g. "manage.registry" (imported only then)
    function: str
    options: Options


# --db's help where a verb reads it its own way (every other verb: the database to use).
DB_HELP = {"sync": "the database get reads, which is DEST when --to is not given"}

# Groups of verbs that share a first word, and what the group is for.
GROUPS = {"registry": "manage the Registries table"}


def _row_name(p: argparse.ArgumentParser, what: str = "the row's name") -> None:
    p.add_argument("name", metavar="NAME", help=f"{what} (as `registry list` shows it)")


PASSWORD_REFUSED = (
    "--password/-p is refused: a password on the command line is visible to other users (ps) "
    "and kept in shell history; pipe it in with --password-stdin"
)


def _refuse_password(p: argparse.ArgumentParser) -> None:
    """--password/-p: recognised only to be refused, and the value it got never echoed."""
    import argparse

    class Refuse(argparse.Action):
        def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
            parser.error(PASSWORD_REFUSED)

    # Hidden from --help: the option exists only to say why it does not.
    p.add_argument("--password", "-p", nargs="?", action=Refuse, help=argparse.SUPPRESS)


def _row_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--username", metavar="U", help="the account's username (`<token>` for an identity token)"
    )
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (never argv)"
    )
    _refuse_password(p)
    p.add_argument(
        "--pattern",
        action="append",
        default=[],
        metavar="P",
        help="image pattern, a glob: * within one path segment, ** across them "
        "(e.g. 'acme/**'); repeat --pattern for more",
    )
    p.add_argument("--default", action="store_true", help="make this the default row")
    p.add_argument(
        "--secret-store",
        choices=SECRET_STORES,
        help="where the password goes (default: READYSTACK_SECRETS, else database)",
    )


def _add(p: argparse.ArgumentParser) -> None:
    _row_name(p, "a name for the new row, unique in the table")
    p.add_argument("--url", required=True, help="registry URL, e.g. https://ghcr.io")
    _row_options(p)


def _list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _show(p: argparse.ArgumentParser) -> None:
    _row_name(p)
    _list(p)


def _update(p: argparse.ArgumentParser) -> None:
    _row_name(p)
    p.add_argument("--url", metavar="URL", help="a new registry URL, e.g. https://ghcr.io")
    p.add_argument("--rename", metavar="NEW_NAME", help="give the row a new name")
    p.add_argument("--clear-patterns", action="store_true", help="remove every pattern first")
    p.add_argument("--no-default", action="store_true", help="clear the default flag")
    _row_options(p)


def _name(p: argparse.ArgumentParser) -> None:
    _row_name(p)


def _move_secrets(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME", help="rows to move (default: all)")
    # Keyring first: moving passwords out of the table is what the verb is mostly for.
    p.add_argument(
        "--to", required=True, choices=SECRET_STORES[::-1], help="where the passwords go"
    )
    p.add_argument("--force", action="store_true", help="allow it on a ReadyStackGo database")


def _timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds each registry check may take (default 10)",
    )


def _test(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME", help="rows to check (default: all)")
    p.add_argument("--image", metavar="REF", help="also check pull access to this image")
    _timeout(p)
    _list(p)


def _online(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--online", action="store_true", help="also check the credentials against the registry"
    )
    _timeout(p)


_TARGET = (
    "a server (ghcr.io, https://ghcr.io) or an image (ghcr.io/acme/api:1; a bare name such "
    "as nginx is read as a Docker Hub image)"
)


def _resolve(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="TARGET", help=_TARGET)
    p.add_argument("--show-secret", action="store_true", help="print the secret unmasked")


def _explain(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", nargs="?", metavar="TARGET", help=_TARGET)
    p.add_argument(
        "--compose",
        nargs="?",
        const=".",
        metavar="PATH",
        help="explain a compose v2 project instead (a folder or file; default: this folder)",
    )
    _online(p)


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--registries", metavar="H,…", help="hosts to configure (default: the table's)")
    p.add_argument("--creds-store", action="store_true", help="set credsStore instead")
    p.add_argument("--overwrite", action="store_true", help="replace another helper's entries")
    p.add_argument("--remove", action="store_true", help="take our entries out again")
    p.add_argument(
        "--readystackgo",
        nargs="?",
        const="",
        metavar="CONTAINER",
        help="find ReadyStackGo's container and database, remember it in the config file",
    )
    p.add_argument(
        "--system",
        action="store_true",
        help="with --readystackgo: write the system config file instead of the user's",
    )
    p.add_argument(
        "--allow-image",
        metavar="IMAGE",
        help="with --readystackgo: accept a container running IMAGE (a self-built ReadyStackGo)",
    )


def _kubelet(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cache-duration",
        default="5m",
        metavar="D",
        help="how long the kubelet may cache the answer, a Go duration such as 5m or 1h30m "
        "(default 5m)",
    )


def _seconds(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _sync(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--from",
        dest="source",
        metavar="SOURCE",
        help="SQLite path or postgresql:// URI to copy from (a ReadyStackGo database works; "
        "default: `sync-from` in the config file)",
    )
    p.add_argument(
        "--to",
        dest="dest",
        metavar="DEST",
        help="the destination: a SQLite path or postgresql:// URI made equal to SOURCE "
        "(default: the database get reads, which --db also names)",
    )
    p.add_argument(
        "--every", type=_seconds, metavar="S", help="repeat every S seconds until SIGTERM/SIGINT"
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        metavar="S",
        default=30.0,  # store.conventions.REMOTE_TIMEOUT: this table is imported by --help
        help="bound connecting, each statement and each lock wait on PostgreSQL (default 30)",
    )


_ROW = "[--username U] [--password-stdin] [--pattern P]… [--default] [--secret-store S]"

VERBS: tuple[Verb, ...] = (
    Verb(
        "registry add",
        f"NAME --url URL {_ROW}",
        "add a registry row",
        "manage.registry",
        "add",
        _add,
    ),
    Verb(
        "registry list",
        "[--json]",
        "list rows (passwords masked)",
        "manage.registry",
        "list_",
        _list,
    ),
    Verb(
        "registry show",
        "NAME [--json]",
        "show one row (password masked)",
        "manage.registry",
        "show",
        _show,
    ),
    Verb(
        "registry update",
        f"NAME [--url URL] [--rename N] [--clear-patterns] [--no-default] {_ROW}",
        "change a row",
        "manage.registry",
        "update",
        _update,
    ),
    Verb(
        "registry remove",
        "NAME",
        "delete a row (and its keyring entry)",
        "manage.registry",
        "remove",
        _name,
    ),
    Verb(
        "registry set-default",
        "NAME",
        "make a row the default",
        "manage.registry",
        "set_default",
        _name,
    ),
    Verb(
        "registry move-secrets",
        "[NAME…] --to keyring|database [--force]",
        "move passwords between the database and the keyring",
        "manage.movesecrets",
        "run",
        _move_secrets,
    ),
    Verb(
        "registry test",
        "[NAME…] [--image REF] [--timeout S] [--json]",
        "check stored credentials against their registries, as docker login does",
        "manage.regtest",
        "run",
        _test,
    ),
    Verb(
        "resolve",
        "TARGET [--show-secret]",
        "print what `get TARGET` would answer (secret masked)",
        "manage.explain",
        "resolve_",
        _resolve,
    ),
    Verb(
        "explain",
        "TARGET [--online] [--timeout S] | --compose [PATH]",
        "trace how TARGET is resolved: every source, row and pattern, and why; --online also "
        "checks the credentials against the registry; --compose: each image of a compose v2 "
        "project, what compose's calls get per host, and how to split a pull",
        "manage.explain",
        "explain",
        _explain,
    ),
    Verb(
        "doctor",
        "[--online] [--timeout S]",
        "check the setup; --online also checks every row against its registry; exit 1 when "
        "something is wrong",
        "manage.doctor",
        "run",
        _online,
    ),
    Verb(
        "configure-docker",
        "[--registries H,…] [--creds-store] [--overwrite] [--remove] "
        "[--readystackgo [CONTAINER] [--system] [--allow-image IMAGE]]",
        "add credHelpers entries for the table's hosts to the Docker config",
        "manage.configure",
        "run",
        _configure,
    ),
    Verb(
        "sync",
        "[--from SOURCE] [--to DEST] [--every S] [--timeout S]",
        "copy the table between SQLite files and PostgreSQL, keeping login rows",
        "manage.sync",
        "run",
        _sync,
    ),
    Verb(
        "kubelet",
        "[--cache-duration D]",
        "kubelet image credential provider (request on stdin)",
        "lookup.kubelet",
        "run",
        _kubelet,
    ),
)

# The first word of every management verb: what `cli` hands to `admin`.
FIRST_WORDS = frozenset(v.words.split()[0] for v in VERBS)


def help_lines(group: str = "") -> list[str]:
    """The management verbs (those of ``group`` when given) as the help lists them, in order."""
    lines = []
    for verb in VERBS:
        if group and not verb.words.startswith(group + " "):
            continue
        lines.append(f"  {verb.words} {verb.synopsis}".rstrip())
        lines.append(f"      {verb.summary}")
    return lines
