"""The skopeo/podman/buildah parsers read the image the real tools ask their helper about.

Every image names its own host, so the host a real tool asks its credential helper about shows
which word it took for the image. Nothing listens there: the tools ask for credentials, then
fail to connect, which is all these tests need.
"""

from __future__ import annotations

import json

import pytest
from readystack.helper.lookup.containersargv import images

from .sandbox import Sandbox, output

pytestmark = pytest.mark.e2e

SKOPEO = [
    ["inspect", "--tls-verify=false", "docker://127.0.0.1:11/a"],
    ["inspect", "docker://127.0.0.1:12/a", "--tls-verify=false"],
    ["--command-timeout", "20s", "inspect", "--tls-verify=false", "docker://127.0.0.1:13/a"],
    ["inspect", "--debug", "--tls-verify=false", "--retry-times", "0", "docker://127.0.0.1:14/a"],
    ["list-tags", "--tls-verify=false", "docker://127.0.0.1:15/a"],
    ["delete", "--tls-verify=false", "docker://127.0.0.1:16/a:1"],
    ["inspect", "--raw", "-n", "--tls-verify=false", "docker://127.0.0.1:17/a"],
]
PODMAN = [
    ["pull", "--tls-verify=false", "127.0.0.1:21/a"],
    ["pull", "127.0.0.1:22/a", "--tls-verify=false"],
    ["pull", "-q", "--tls-verify=false", "docker://127.0.0.1:23/a"],
    ["image", "pull", "--tls-verify=false", "127.0.0.1:24/a"],
    ["--log-level", "error", "pull", "--tls-verify=false", "127.0.0.1:25/a"],
    ["run", "--rm", "--tls-verify=false", "127.0.0.1:26/a", "127.0.0.1:27/b"],
    ["create", "--name", "x", "--tls-verify=false", "127.0.0.1:28/a"],
]
BUILDAH = [
    ["pull", "--tls-verify=false", "127.0.0.1:31/a"],
    ["from", "--tls-verify=false", "--pull", "127.0.0.1:32/a"],
    ["from", "--tls-verify=false", "--name", "c", "127.0.0.1:33/a"],
    ["--log-level", "error", "pull", "-q", "--tls-verify=false", "127.0.0.1:34/a"],
]


def _spy(sandbox: Sandbox, lines: list[list[str]]) -> tuple[str, object]:
    """An auth file sending every host of ``lines`` to a spy helper; (auth file, log path)."""
    log = sandbox.spy_helper()
    hosts = {w.removeprefix("docker://").split("/")[0] for line in lines for w in line if "/" in w}
    sandbox.authfile.write_text(json.dumps({"credHelpers": dict.fromkeys(hosts, "spy")}))
    return str(sandbox.authfile), log


def _storage(sandbox: Sandbox) -> list[str]:
    base = sandbox.root / "storage"
    return ["--root", str(base / "root"), "--runroot", str(base / "run"), "--storage-driver", "vfs"]


@pytest.mark.parametrize("client", ["skopeo", "podman", "buildah"])
def test_the_parser_reads_the_image_the_real_tool_reads(sandbox: Sandbox, client: str) -> None:
    lines = {"skopeo": SKOPEO, "podman": PODMAN, "buildah": BUILDAH}[client]
    authfile, log = _spy(sandbox, lines)
    env = {"REGISTRY_AUTH_FILE": authfile}
    for line in lines:
        log.unlink(missing_ok=True)  # type: ignore[attr-defined]
        prefix = _storage(sandbox) if client != "skopeo" else []
        proc = sandbox.run([client, *prefix, *line], env=env, timeout=120)
        asked = set(log.read_text().split()) if log.exists() else set()  # type: ignore[attr-defined]
        named = images(client, [client, *line])
        assert named, line
        assert asked == {image.split("/", 1)[0] for image in named}, (line, output(proc))
