"""What a docker compose v2 command line asks for: its global options, command and services."""

from __future__ import annotations

from .dockerargv import global_options
from .pflag import ANY, Flags, Uncertain, letters, parse, table

# The tables come from docker/compose v2.40.3 (the compose the tests run): cmd/compose/compose.go
# (ProjectOptions.addProjectFlags and RootCommand's own flags; the root has TraverseChildren, so
# its flags stand before the command, and `--dry-run` is its one persistent flag), pull.go,
# up.go, create.go and run.go; cmd/compatibility/convert.go for the docker options a standalone
# `docker-compose` moves in front of `compose`; docker/cli's cli-plugins/plugin/plugin.go for the
# plugin's persistent `--help/-h`. Parsed as pflag parses (pflag.py).
_ROOT = Flags(
    table("profile project-name file env-file project-directory workdir progress ansi parallel"),
    table("compatibility all-resources version no-ansi verbose dry-run help"),
    letters("p:project-name f:file v:version h:help"),
    False,
)
# convert.go: what a standalone binary accepts in front of its command besides the root's flags.
_STANDALONE = _ROOT.merged(
    Flags(
        table("tlscacert tlscert tlskey host context log-level"),
        table("debug tls tlsverify"),
        letters("D:debug H:host"),
        False,
    )
)
_PERSISTENT = Flags(frozenset(), table("dry-run help"), letters("h:help"), True)
_PULL = Flags(
    table("policy"),
    table("quiet include-deps parallel no-parallel ignore-pull-failures ignore-buildable"),
    letters("q:quiet"),
    True,
).merged(_PERSISTENT)
_CREATE_BOOLS = "build no-build quiet-pull force-recreate no-recreate remove-orphans yes"
_CREATE = Flags(table("pull scale"), table(_CREATE_BOOLS), letters("y:yes"), True).merged(
    _PERSISTENT
)
_UP = Flags(
    table("pull scale exit-code-from timeout attach no-attach wait-timeout"),
    table(
        f"{_CREATE_BOOLS} detach no-color no-log-prefix no-start abort-on-container-exit "
        "abort-on-container-failure timestamps no-deps always-recreate-deps renew-anon-volumes "
        "quiet-build attach-dependencies wait watch menu"
    ),
    letters("d:detach t:timeout V:renew-anon-volumes w:watch y:yes"),
    True,
).merged(_PERSISTENT)
# run.go: SetInterspersed(false), so the service ends the options; its command follows.
_RUN = Flags(
    table("env env-from-file label name user workdir entrypoint cap-add cap-drop volume publish "
          "pull"),
    table(
        "detach rm no-TTY no-deps use-aliases service-ports quiet quiet-build quiet-pull build "
        "remove-orphans interactive tty"
    ),
    letters("d:detach e:env l:label u:user w:workdir v:volume p:publish T:no-TTY P:service-ports "
            "q:quiet i:interactive t:tty"),
    False,
    (1, ANY),
).merged(_PERSISTENT)  # fmt: skip
COMMANDS = {"pull": _PULL, "up": _UP, "create": _CREATE, "run": _RUN}


class Command:
    """A compose command line read: the words to replay before ``config``, and what it pulls."""

    __slots__ = ("prefix", "command", "services", "named_only")

    def __init__(self, prefix: list[str], command: str, services: list[str], named_only: bool):
        self.prefix = prefix  # global options (and `compose` for the plugin), verbatim
        self.command = command
        self.services = services  # as named on the command line; none means every service
        # `pull SERVICE…` without --include-deps pulls only those services, while `config
        # SERVICE…` also prints their dependencies.
        self.named_only = named_only


def read(argv: list[str], plugin: bool) -> Command | None:
    """The compose command in ``argv`` (argv[0] included), or None when it is not certain."""
    try:
        return _read(argv[1:], plugin)
    except Uncertain:
        return None


def _read(args: list[str], plugin: bool) -> Command | None:
    start = 0
    if plugin:
        # `…/cli-plugins/docker-compose [docker's global options] compose [compose's] COMMAND`
        start = global_options(args)
        if start >= len(args) or args[start] != "compose":
            return None
        start += 1
    rest = parse(args[start:], _ROOT if plugin else _STANDALONE)
    prefix = args[: len(args) - len(rest)]
    if _reads_stdin(prefix[start:]) or not rest:
        return None
    flags = COMMANDS.get(rest[0])
    if flags is None:
        return None
    words = rest[1:]
    operands = parse(words, flags)
    low, high = flags.args
    if not low <= len(operands) <= high:
        return None
    if rest[0] == "run":
        operands = operands[:1]  # the service; the rest is its command
    include_deps = rest[0] == "pull" and _given(words, "--include-deps")
    return Command(prefix, rest[0], operands, rest[0] == "pull" and not include_deps)


def _reads_stdin(options: list[str]) -> bool:
    """Whether the options name a compose file `-`: standard input, which a second run lacks."""
    for i, word in enumerate(options):
        if word in ("-f", "--file") and i + 1 < len(options) and options[i + 1] == "-":
            return True
        if word in ("-f-", "-f=-", "--file=-"):
            return True
    return False


def _given(words: list[str], flag: str) -> bool:
    """Whether a boolean ``flag`` is set true among the option words (before any ``--``)."""
    value = False
    for word in words:
        if word == "--":
            break
        if word == flag:
            value = True
        elif word.startswith(flag + "="):
            value = word.split("=", 1)[1] in ("1", "t", "T", "TRUE", "true", "True")
    return value
