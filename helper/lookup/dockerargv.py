"""The one image a docker CLI command line names, found as the docker CLI parses its argv."""

from __future__ import annotations

# The option tables below come from docker/cli v28.2.2
# (commit e6534b4eb700e592f25e7213568a02f3ce37460d, the CLI the tests run):
# cli/flags/options.go (InstallFlags) and cmd/docker/docker.go for the global options,
# cli/cobra.go for the persistent `--help/-h`, cli/command/image/pull.go and push.go,
# cli/command/container/run.go, create.go and opts.go (addFlags), cli/command/manifest/inspect.go
# and push.go, cli/command/utils.go (AddPlatformFlag) and cli/command/trust.go. The parsing rules
# are those of spf13/pflag v1.0.6 (vendored there): parseArgs, parseLongArg and
# parseSingleShortArg. Only boolean flags have a no-option default in those files, so a bool
# never takes the next word and every other flag always does.
#
# Anything the CLI would reject, or that this table cannot read with certainty, answers None:
# the caller then keeps the host ranking.

# Global options: ClientOptions.InstallFlags, plus the root command's `--version/-v` and the
# persistent `--help/-h`. The root parses them without interspersing (HandleGlobalFlags).
_GLOBAL_VALUES = frozenset(
    {"config", "log-level", "tlscacert", "tlscert", "tlskey", "host", "context"}
)
_GLOBAL_BOOLS = frozenset({"debug", "tls", "tlsverify", "version", "help"})
_GLOBAL_SHORTS = {
    "D": "debug", "l": "log-level", "H": "host", "c": "context", "v": "version", "h": "help",
}  # fmt: skip

# containerOptions (opts.go addFlags), shared by `run` and `create`; the Int, Int64, Uint16,
# Uint64 and Duration flags take a value like the string ones.
_CONTAINER_VALUES = frozenset({
    "add-host", "annotation", "attach", "blkio-weight", "blkio-weight-device", "cap-add",
    "cap-drop", "cgroup-parent", "cgroupns", "cidfile", "cpu-count", "cpu-percent", "cpu-period",
    "cpu-quota", "cpu-rt-period", "cpu-rt-runtime", "cpu-shares", "cpus", "cpuset-cpus",
    "cpuset-mems", "device", "device-cgroup-rule", "device-read-bps", "device-read-iops",
    "device-write-bps", "device-write-iops", "dns", "dns-opt", "dns-option", "dns-search",
    "domainname", "entrypoint", "env", "env-file", "expose", "gpus", "group-add", "health-cmd",
    "health-interval", "health-retries", "health-start-interval", "health-start-period",
    "health-timeout", "hostname", "io-maxbandwidth", "io-maxiops", "ip", "ip6", "ipc",
    "isolation", "kernel-memory", "label", "label-file", "link", "link-local-ip", "log-driver",
    "log-opt", "mac-address", "memory", "memory-reservation", "memory-swap", "memory-swappiness",
    "mount", "net", "net-alias", "network", "network-alias", "oom-score-adj", "pid", "pids-limit",
    "publish", "restart", "runtime", "security-opt", "shm-size", "stop-signal", "stop-timeout",
    "storage-opt", "sysctl", "tmpfs", "ulimit", "user", "userns", "uts", "volume",
    "volume-driver", "volumes-from", "workdir",
    # run.go / create.go, and AddPlatformFlag
    "name", "pull", "platform",
})  # fmt: skip
_CONTAINER_BOOLS = frozenset({
    "init", "interactive", "no-healthcheck", "oom-kill-disable", "privileged", "publish-all",
    "read-only", "rm", "tty",
    # run.go / create.go, and AddTrustVerificationFlags
    "quiet", "use-api-socket", "help", "disable-content-trust",
})  # fmt: skip
# `run` and `create` declare their own `--help` without `-h`, so `-h` is `--hostname` there.
_CONTAINER_SHORTS = {
    "a": "attach", "e": "env", "h": "hostname", "i": "interactive", "l": "label", "t": "tty",
    "u": "user", "w": "workdir", "p": "publish", "P": "publish-all", "v": "volume",
    "c": "cpu-shares", "m": "memory", "q": "quiet",
}  # fmt: skip


class _Flags:
    """One command's flag set: which long names take a value, which are booleans, the letters."""

    __slots__ = ("values", "bools", "shorts", "interspersed", "args")

    def __init__(
        self,
        values: frozenset[str],
        bools: frozenset[str],
        shorts: dict[str, str],
        interspersed: bool,
        args: tuple[int, int],
    ) -> None:
        self.values = values
        self.bools = bools
        self.shorts = shorts
        self.interspersed = interspersed
        self.args = args  # how many operands the command accepts (cobra's Args), min and max


_NO_VALUES: frozenset[str] = frozenset()
_ANY = 1 << 30
# pull and push: the persistent `--help/-h` is merged in, and flags may follow the operand.
_PULL = _Flags(
    frozenset({"platform"}),
    frozenset({"all-tags", "quiet", "disable-content-trust", "help"}),
    {"a": "all-tags", "q": "quiet", "h": "help"},
    True,
    (1, 1),
)
_PUSH = _PULL  # the same flags in v28.2.2 (push's --platform has no env default, same shape)
_RUN = _Flags(
    _CONTAINER_VALUES | {"detach-keys"},
    _CONTAINER_BOOLS | {"detach", "sig-proxy"},
    {**_CONTAINER_SHORTS, "d": "detach"},
    False,  # SetInterspersed(false): the image ends the options, the rest is its command
    (1, _ANY),
)
_CREATE = _Flags(_CONTAINER_VALUES, _CONTAINER_BOOLS, _CONTAINER_SHORTS, False, (1, _ANY))
# `manifest inspect [MANIFEST_LIST] MANIFEST` also takes two operands; two images are not one.
_MANIFEST_INSPECT = _Flags(
    _NO_VALUES,
    frozenset({"insecure", "verbose", "help"}),
    {"v": "verbose", "h": "help"},
    True,
    (1, 1),
)
_MANIFEST_PUSH = _Flags(
    _NO_VALUES,
    frozenset({"insecure", "purge", "help"}),
    {"p": "purge", "h": "help"},
    True,
    (1, 1),
)
_GLOBAL = _Flags(_GLOBAL_VALUES, _GLOBAL_BOOLS, _GLOBAL_SHORTS, False, (0, _ANY))

# cobra finds `docker pull` and `docker image pull` alike (commands.go adds both).
_VERBS = {"pull": _PULL, "push": _PUSH, "run": _RUN, "create": _CREATE}
_GROUPS = {
    "image": {"pull": _PULL, "push": _PUSH},
    "container": {"run": _RUN, "create": _CREATE},
    "manifest": {"inspect": _MANIFEST_INSPECT, "push": _MANIFEST_PUSH},
}
# Flags after which the command never reaches a registry for its image, or asks about every
# host at once (`--use-api-socket` hands all credentials to the container): no hint.
_STOPPERS = frozenset({"help", "version", "use-api-socket"})
# strconv.ParseBool, which pflag's bool flags use.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


class _Uncertain(Exception):
    """The command line is one the CLI rejects or this parser cannot read with certainty."""


def image_operand(argv: list[str]) -> str | None:
    """The image operand of a docker CLI ``argv`` (argv[0] included), or None to fall back."""
    try:
        return _image_operand(argv[1:])
    except _Uncertain:
        return None


def _image_operand(args: list[str]) -> str | None:
    words = _parse(args, _GLOBAL)
    if not words:
        return None
    command, rest = words[0], words[1:]
    flags = _VERBS.get(command)
    if flags is None:
        group = _GROUPS.get(command)
        # A flag between the group and its verb (`docker image --help pull`) is left to the CLI.
        if group is None or not rest:
            return None
        flags = group.get(rest[0])
        rest = rest[1:]
    if flags is None:
        return None
    operands = _parse(rest, flags)
    low, high = flags.args
    if not low <= len(operands) <= high:
        return None
    return operands[0]


def _parse(args: list[str], flags: _Flags) -> list[str]:
    """pflag's parseArgs over ``args``: the operands, or _Uncertain."""
    operands: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if len(word) < 2 or word[0] != "-":
            if not flags.interspersed:
                return operands + [word] + args[i:]
            operands.append(word)
        elif word == "--":
            return operands + args[i:]
        elif word[1] == "-":
            i = _long(word, args, i, flags)
        else:
            i = _shorts(word[1:], args, i, flags)
    return operands


def _long(word: str, args: list[str], i: int, flags: _Flags) -> int:
    """``--name``, ``--name=value`` or ``--name value``; the index after what it used."""
    name, equals, value = word[2:].partition("=")
    if not name or name[0] == "-":
        raise _Uncertain()
    if name in flags.bools:
        _set_bool(name, value if equals else "true")
        return i
    if name not in flags.values:
        raise _Uncertain()  # unknown flag: the CLI fails before asking anything
    if not equals and i >= len(args):
        raise _Uncertain()
    return i if equals else i + 1


def _shorts(letters: str, args: list[str], i: int, flags: _Flags) -> int:
    """A group of short flags (``-it``, ``-ePATH=x``, ``-d=false``); the index after it."""
    while letters:
        if letters.startswith("test."):
            raise _Uncertain()  # pflag silently skips Go test flags
        name = flags.shorts.get(letters[0])
        if name is None:
            raise _Uncertain()
        inline = letters[2:] if len(letters) > 2 and letters[1] == "=" else None
        if name in flags.bools:
            _set_bool(name, "true" if inline is None else inline)
            letters = "" if inline is not None else letters[1:]
            continue
        if inline is None and len(letters) == 1:
            if i >= len(args):
                raise _Uncertain()
            return i + 1  # `-e VALUE`: the next word is the value, whatever it looks like
        return i  # `-ePATH=x`, `-e=PATH=x`: the rest of the word is the value
    return i


def _set_bool(name: str, value: str) -> None:
    if value in _TRUE:
        if name in _STOPPERS:
            raise _Uncertain()
    elif value not in _FALSE:
        raise _Uncertain()  # the CLI refuses `--rm=maybe`
