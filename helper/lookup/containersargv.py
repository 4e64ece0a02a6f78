"""The registry images skopeo, podman and buildah command lines name, read as they read them."""

from __future__ import annotations

from .pflag import ANY, STOPPERS, Flags, Uncertain, letters, parse, table

# The option tables are those of the versions Debian 12 ships, which the tests run: skopeo 1.9.3,
# podman 4.3.1 and buildah 1.28.2, as their own `--help` lists them (generated from it, word for
# word: pflag prints every flag that is not hidden, with its value's type unless it is a bool).
# A hidden or newer flag is therefore unknown here, and an unknown flag means no hint, never a
# guess. All three parse with cobra and spf13/pflag (pflag.py); their root options are
# persistent, so they are accepted after the command too (tried on those versions). Interspersing,
# as tried: skopeo's and podman's pull/push read options after the image; podman's run/create
# stop at the image (the rest is the container's command); buildah refuses any option after its
# image (VerifyFlagsArgsOrder), so a word starting with `-` there means no hint.


def _help(values: str, bools: str, shorts: str, optional: str = "") -> Flags:
    """One `--help` listing as a flag set (interspersing and operands are set per command)."""
    return Flags(table(values), table(bools), letters(shorts), True, optional=table(optional))


# `skopeo --help`
_SKOPEO_GLOBAL = _help(
    ("command-timeout override-arch override-os override-variant policy registries.d tmpdir"),
    "debug help insecure-policy version",
    "h:help v:version",
)

# `skopeo inspect --help`
_SKOPEO_INSPECT = _help(
    (
        "authfile cert-dir creds daemon-host format password registry-token retry-times "
        "shared-blob-dir username"
    ),
    "config help no-creds no-tags raw tls-verify",
    "f:format h:help n:no-tags",
)

# `skopeo copy --help`
_SKOPEO_COPY = _help(
    (
        "additional-tag authfile decryption-key dest-authfile dest-cert-dir "
        "dest-compress-format dest-compress-level dest-creds dest-daemon-host dest-password "
        "dest-registry-token dest-shared-blob-dir dest-username digestfile encrypt-layer "
        "encryption-key format multi-arch retry-times sign-by sign-by-sigstore-private-key "
        "sign-identity sign-passphrase-file src-authfile src-cert-dir src-creds "
        "src-daemon-host src-password src-registry-token src-shared-blob-dir src-username"
    ),
    (
        "all dest-compress dest-decompress dest-no-creds dest-oci-accept-uncompressed-layers "
        "dest-precompute-digests dest-tls-verify help preserve-digests quiet "
        "remove-signatures src-no-creds src-tls-verify"
    ),
    "a:all f:format h:help q:quiet",
)

# `skopeo list-tags --help`
_SKOPEO_LIST_TAGS = _help(
    "authfile cert-dir creds password registry-token retry-times username",
    "help no-creds tls-verify",
    "h:help",
)

# `skopeo delete --help`
_SKOPEO_DELETE = _help(
    (
        "authfile cert-dir creds daemon-host password registry-token retry-times "
        "shared-blob-dir username"
    ),
    "help no-creds tls-verify",
    "h:help",
)

# `podman --help`
_PODMAN_GLOBAL = _help(
    (
        "cgroup-manager conmon connection events-backend hooks-dir identity log-level "
        "namespace network-cmd-path network-config-dir root runroot runtime runtime-flag ssh "
        "storage-driver storage-opt tmpdir url volumepath"
    ),
    "help noout remote syslog version",
    "c:connection r:remote v:version",
)

# `podman pull --help`
_PODMAN_PULL = _help(
    "arch authfile cert-dir creds os platform variant",
    "all-tags disable-content-trust quiet tls-verify",
    "a:all-tags q:quiet",
)

# `podman push --help`
_PODMAN_PUSH = _help(
    (
        "authfile cert-dir compression-format creds digestfile format sign-by "
        "sign-by-sigstore-private-key sign-passphrase-file"
    ),
    "compress disable-content-trust quiet remove-signatures tls-verify",
    "f:format q:quiet",
)

# `podman run --help`
_PODMAN_RUN = _help(
    (
        "add-host annotation arch attach authfile blkio-weight blkio-weight-device cap-add "
        "cap-drop cgroup-conf cgroup-parent cgroupns cgroups chrootdirs cidfile "
        "conmon-pidfile cpu-period cpu-quota cpu-rt-period cpu-rt-runtime cpu-shares cpus "
        "cpuset-cpus cpuset-mems detach-keys device device-cgroup-rule device-read-bps "
        "device-read-iops device-write-bps device-write-iops dns dns-option dns-search "
        "entrypoint env env-file env-merge expose gidmap group-add health-cmd health-interval "
        "health-on-failure health-retries health-start-period health-timeout hostname "
        "hostuser image-volume init-path ip ip6 ipc label label-file log-driver log-opt "
        "mac-address memory memory-reservation memory-swap memory-swappiness mount name "
        "network network-alias oom-score-adj os passwd-entry personality pid pidfile "
        "pids-limit platform pod pod-id-file preserve-fds publish pull requires restart "
        "sdnotify seccomp-policy secret security-opt shm-size stop-signal stop-timeout "
        "subgidname subuidname sysctl systemd timeout tmpfs tz uidmap ulimit umask unsetenv "
        "user userns uts variant volume volumes-from workdir"
    ),
    (
        "detach disable-content-trust env-host help http-proxy init interactive "
        "no-healthcheck no-hosts oom-kill-disable passwd privileged publish-all quiet "
        "read-only read-only-tmpfs replace rm rmi rootfs sig-proxy tls-verify tty "
        "unsetenv-all"
    ),
    (
        "a:attach c:cpu-shares d:detach e:env h:hostname i:interactive l:label m:memory "
        "p:publish P:publish-all q:quiet t:tty u:user v:volume w:workdir"
    ),
)

# `podman create --help`
_PODMAN_CREATE = _help(
    (
        "add-host annotation arch attach authfile blkio-weight blkio-weight-device cap-add "
        "cap-drop cgroup-conf cgroup-parent cgroupns cgroups chrootdirs cidfile "
        "conmon-pidfile cpu-period cpu-quota cpu-rt-period cpu-rt-runtime cpu-shares cpus "
        "cpuset-cpus cpuset-mems device device-cgroup-rule device-read-bps device-read-iops "
        "device-write-bps device-write-iops dns dns-option dns-search entrypoint env env-file "
        "env-merge expose gidmap group-add health-cmd health-interval health-on-failure "
        "health-retries health-start-period health-timeout hostname hostuser image-volume "
        "init-ctr init-path ip ip6 ipc label label-file log-driver log-opt mac-address memory "
        "memory-reservation memory-swap memory-swappiness mount name network network-alias "
        "oom-score-adj os passwd-entry personality pid pidfile pids-limit platform pod "
        "pod-id-file publish pull requires restart sdnotify seccomp-policy secret "
        "security-opt shm-size stop-signal stop-timeout subgidname subuidname sysctl systemd "
        "timeout tmpfs tz uidmap ulimit umask unsetenv user userns uts variant volume "
        "volumes-from workdir"
    ),
    (
        "disable-content-trust env-host help http-proxy init interactive no-healthcheck "
        "no-hosts oom-kill-disable privileged publish-all quiet read-only read-only-tmpfs "
        "replace rm rootfs tls-verify tty unsetenv-all"
    ),
    (
        "a:attach c:cpu-shares e:env h:hostname i:interactive l:label m:memory p:publish "
        "P:publish-all q:quiet t:tty u:user v:volume w:workdir"
    ),
)

# `buildah --help`
_BUILDAH_GLOBAL = _help(
    (
        "cgroup-manager log-level registries-conf registries-conf-dir root runroot "
        "short-name-alias-conf storage-driver storage-opt userns-gid-map userns-uid-map"
    ),
    "help version",
    "h:help v:version",
)

# `buildah pull --help`
_BUILDAH_PULL = _help(
    ("arch authfile cert-dir creds decryption-key os platform policy retry retry-delay variant"),
    "all-tags help quiet remove-signatures tls-verify",
    "a:all-tags h:help q:quiet",
)

# `buildah push --help`
_BUILDAH_PUSH = _help(
    (
        "authfile cert-dir compression-format compression-level creds digestfile "
        "encrypt-layer encryption-key format retry retry-delay sign-by"
    ),
    "all disable-compression help quiet remove-signatures rm tls-verify",
    "D:disable-compression f:format h:help q:quiet",
)

# `buildah from --help`
_BUILDAH_FROM = _help(
    (
        "add-host arch authfile cap-add cap-drop cert-dir cgroup-parent cgroupns cidfile "
        "cpu-period cpu-quota cpu-shares cpuset-cpus cpuset-mems creds decryption-key device "
        "dns dns-option dns-search format ipc isolation memory memory-swap name network os "
        "pid platform retry retry-delay security-opt shm-size ulimit userns userns-gid-map "
        "userns-gid-map-group userns-uid-map userns-uid-map-user uts variant volume"
    ),
    "help http-proxy quiet tls-verify",
    "c:cpu-shares f:format h:help m:memory q:quiet v:volume",
    optional="pull",
)

# containers/image transports (alltransports): only `docker://` names a registry.
_TRANSPORTS = table(
    "containers-storage dir docker-archive docker-daemon oci oci-archive ostree sif tarball"
)


def _command(
    flags: Flags,
    args: tuple[int, int],
    interspersed: bool = True,
    stoppers: frozenset[str] = STOPPERS,
) -> Flags:
    return Flags(
        flags.values, flags.bools, flags.shorts, interspersed, args, stoppers, flags.optional
    )


_SKOPEO = {
    "inspect": _command(_SKOPEO_INSPECT, (1, 1)),
    "copy": _command(_SKOPEO_COPY, (2, 2)),
    "list-tags": _command(_SKOPEO_LIST_TAGS, (1, 1)),
    "delete": _command(_SKOPEO_DELETE, (1, 1)),
}
# `--rootfs`: the operand is a folder, not an image.
_PODMAN_RUN_STOPPERS = STOPPERS | {"rootfs"}
_PODMAN = {
    "pull": _command(_PODMAN_PULL, (1, ANY)),
    "push": _command(_PODMAN_PUSH, (1, 2)),
    "run": _command(_PODMAN_RUN, (1, ANY), False, _PODMAN_RUN_STOPPERS),
    "create": _command(_PODMAN_CREATE, (1, ANY), False, _PODMAN_RUN_STOPPERS),
}
_PODMAN_GROUPS = {
    "image": {"pull": _PODMAN["pull"], "push": _PODMAN["push"]},
    "container": {"run": _PODMAN["run"], "create": _PODMAN["create"]},
}
_BUILDAH = {
    "pull": _command(_BUILDAH_PULL, (1, 1), False),
    "push": _command(_BUILDAH_PUSH, (1, 2), False),
    "from": _command(_BUILDAH_FROM, (1, 1), False),
}


def images(client: str, argv: list[str]) -> list[str] | None:
    """The registry references ``argv`` names (transport removed), or None when uncertain.

    ``client`` is `skopeo`, `podman` or `buildah`; podman's and buildah's short names come back
    as written (the caller reads them on the host asked).
    """
    try:
        if client == "skopeo":
            return _skopeo(argv[1:])
        if client == "podman":
            return _podman(argv[1:])
        if client == "buildah":
            return _buildah(argv[1:])
    except Uncertain:
        return None
    return None


def _verb(
    args: list[str], root: Flags, commands: dict[str, Flags], groups: dict[str, dict[str, Flags]]
) -> tuple[str, list[str]]:
    """The command's name and its operands; root options are persistent (merged in)."""
    words = parse(args, _command(root, (0, ANY), False))
    if not words:
        raise Uncertain()
    name, rest = words[0], words[1:]
    flags = commands.get(name)
    if flags is None and name in groups and rest:
        name, rest = rest[0], rest[1:]
        flags = groups[words[0]].get(name)
    if flags is None:
        raise Uncertain()
    merged = flags.merged(root)
    operands = parse(rest, merged)
    low, high = flags.args
    if not low <= len(operands) <= high:
        raise Uncertain()
    return name, operands


def _skopeo(args: list[str]) -> list[str]:
    _, operands = _verb(args, _SKOPEO_GLOBAL, _SKOPEO, {})
    # skopeo names every image with its transport; only docker:// ones are on a registry.
    return [word[len("docker://") :] for word in operands if word.startswith("docker://")]


def _podman(args: list[str]) -> list[str]:
    name, operands = _verb(args, _PODMAN_GLOBAL, _PODMAN, _PODMAN_GROUPS)
    if name == "push":
        operands = operands[-1:]  # the destination when given, else the image itself
    elif name in ("run", "create"):
        operands = operands[:1]  # the rest is the container's command
    return _registry_refs(operands)


def _buildah(args: list[str]) -> list[str]:
    name, operands = _verb(args, _BUILDAH_GLOBAL, _BUILDAH, {})
    if any(word.startswith("-") for word in operands):
        raise Uncertain()  # buildah refuses options after the image: it asks nothing
    return _registry_refs(operands[-1:] if name == "push" else operands)


def _registry_refs(words: list[str]) -> list[str]:
    """The words that name a registry image: `docker://` removed, other transports left out."""
    refs = []
    for word in words:
        if word.startswith("docker://"):
            refs.append(word[len("docker://") :])
            continue
        transport, colon, _ = word.partition(":")
        if colon and (transport in _TRANSPORTS or transport == "docker"):
            continue  # a local transport (or `docker:` without //, which they refuse)
        refs.append(word)
    return refs
