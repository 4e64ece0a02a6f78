"""The one image a docker CLI command line names, found as the docker CLI parses its argv."""

from __future__ import annotations

from .pflag import ANY, STOPPERS, Flags, Uncertain, parse

# The option tables below come from docker/cli v28.2.2
# (commit e6534b4eb700e592f25e7213568a02f3ce37460d, the CLI the tests run):
# cli/flags/options.go (InstallFlags) and cmd/docker/docker.go for the global options,
# cli/cobra.go for the persistent `--help/-h`, cli/command/image/pull.go and push.go,
# cli/command/container/run.go, create.go and opts.go (addFlags), cli/command/manifest/inspect.go
# and push.go, cli/command/utils.go (AddPlatformFlag) and cli/command/trust.go. The parsing rules
# are those of spf13/pflag v1.0.6 (vendored there), in pflag.py.
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


_NO_VALUES: frozenset[str] = frozenset()
# pull and push: the persistent `--help/-h` is merged in, and flags may follow the operand.
_PULL = Flags(
    frozenset({"platform"}),
    frozenset({"all-tags", "quiet", "disable-content-trust", "help"}),
    {"a": "all-tags", "q": "quiet", "h": "help"},
    True,
    (1, 1),
)
_PUSH = _PULL  # the same flags in v28.2.2 (push's --platform has no env default, same shape)
# `--use-api-socket` hands every host's credentials to the container: no hint.
_CONTAINER_STOPPERS = STOPPERS | {"use-api-socket"}
_RUN = Flags(
    _CONTAINER_VALUES | {"detach-keys"},
    _CONTAINER_BOOLS | {"detach", "sig-proxy"},
    {**_CONTAINER_SHORTS, "d": "detach"},
    False,  # SetInterspersed(false): the image ends the options, the rest is its command
    (1, ANY),
    _CONTAINER_STOPPERS,
)
_CREATE = Flags(
    _CONTAINER_VALUES, _CONTAINER_BOOLS, _CONTAINER_SHORTS, False, (1, ANY), _CONTAINER_STOPPERS
)
# `manifest inspect [MANIFEST_LIST] MANIFEST` also takes two operands; two images are not one.
_MANIFEST_INSPECT = Flags(
    _NO_VALUES,
    frozenset({"insecure", "verbose", "help"}),
    {"v": "verbose", "h": "help"},
    True,
    (1, 1),
)
_MANIFEST_PUSH = Flags(
    _NO_VALUES,
    frozenset({"insecure", "purge", "help"}),
    {"p": "purge", "h": "help"},
    True,
    (1, 1),
)
GLOBAL = Flags(_GLOBAL_VALUES, _GLOBAL_BOOLS, _GLOBAL_SHORTS, False, (0, ANY))

# cobra finds `docker pull` and `docker image pull` alike (commands.go adds both).
_VERBS = {"pull": _PULL, "push": _PUSH, "run": _RUN, "create": _CREATE}
_GROUPS = {
    "image": {"pull": _PULL, "push": _PUSH},
    "container": {"run": _RUN, "create": _CREATE},
    "manifest": {"inspect": _MANIFEST_INSPECT, "push": _MANIFEST_PUSH},
}


def image_operand(argv: list[str]) -> str | None:
    """The image operand of a docker CLI ``argv`` (argv[0] included), or None to fall back."""
    try:
        return _image_operand(argv[1:])
    except Uncertain:
        return None


def global_options(args: list[str]) -> int:
    """How many leading words of ``args`` (after argv[0]) are the CLI's global options."""
    return len(args) - len(parse(args, GLOBAL))


def _image_operand(args: list[str]) -> str | None:
    words = parse(args, GLOBAL)
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
    found = parse(rest, flags)
    low, high = flags.args
    if not low <= len(found) <= high:
        return None
    return found[0]
