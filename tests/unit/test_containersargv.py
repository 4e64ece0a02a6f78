"""skopeo 1.9.3, podman 4.3.1 and buildah 1.28.2 command lines: the registry images they name."""

from __future__ import annotations

import shlex

import pytest
from readystack.helper.lookup.containersargv import images

H = "127.0.0.1:5000"
NONE = None  # no hint: the host ranking decides

SKOPEO = [
    (f"inspect docker://{H}/team/app", [f"{H}/team/app"]),
    (f"inspect docker://{H}/team/app:1", [f"{H}/team/app:1"]),
    ("inspect docker://alpine", ["alpine"]),
    (f"inspect --tls-verify=false docker://{H}/team/app", [f"{H}/team/app"]),
    (f"inspect --tls-verify docker://{H}/a/b", [f"{H}/a/b"]),
    (f"inspect --raw docker://{H}/a/b", [f"{H}/a/b"]),
    (f"inspect docker://{H}/a/b --raw", [f"{H}/a/b"]),  # options after the image
    (f"inspect --authfile /tmp/auth.json docker://{H}/a/b", [f"{H}/a/b"]),
    (f"inspect --authfile=/tmp/auth.json --config docker://{H}/a/b", [f"{H}/a/b"]),
    (f"inspect -f '{{{{.Name}}}}' docker://{H}/a/b", [f"{H}/a/b"]),
    (f"inspect -n docker://{H}/a/b", [f"{H}/a/b"]),
    (f"inspect --retry-times 3 docker://{H}/a/b", [f"{H}/a/b"]),
    (f"inspect --cert-dir /certs docker://{H}/a/b", [f"{H}/a/b"]),
    (f"--debug inspect docker://{H}/a/b", [f"{H}/a/b"]),
    (f"--command-timeout 10s inspect docker://{H}/a/b", [f"{H}/a/b"]),
    (f"--policy /p.json --insecure-policy inspect docker://{H}/a/b", [f"{H}/a/b"]),
    (f"--override-arch arm64 inspect docker://{H}/a/b", [f"{H}/a/b"]),
    (f"inspect --debug docker://{H}/a/b", [f"{H}/a/b"]),  # root options are persistent
    (f"copy docker://{H}/a/b docker://{H}/c/d", [f"{H}/a/b", f"{H}/c/d"]),
    (f"copy docker://{H}/a/b dir:/tmp/x", [f"{H}/a/b"]),
    (f"copy oci:/tmp/x docker://{H}/c/d", [f"{H}/c/d"]),
    (
        f"copy --src-tls-verify=false --dest-tls-verify=false docker://{H}/a docker://{H}/b",
        [f"{H}/a", f"{H}/b"],
    ),
    (f"copy --all --dest-creds u:p docker://{H}/a docker://{H}/b", [f"{H}/a", f"{H}/b"]),
    (f"copy -q --format v2s2 docker://{H}/a docker://{H}/b", [f"{H}/a", f"{H}/b"]),
    (f"copy --additional-tag x:1 docker://{H}/a docker-archive:/t.tar", [f"{H}/a"]),
    (f"copy --multi-arch all docker://{H}/a docker://{H}/b", [f"{H}/a", f"{H}/b"]),
    (f"list-tags docker://{H}/team/app", [f"{H}/team/app"]),
    (f"list-tags --tls-verify=false docker://{H}/team/app", [f"{H}/team/app"]),
    (f"delete docker://{H}/team/app:1", [f"{H}/team/app:1"]),
    (f"delete --creds u:p docker://{H}/team/app:1", [f"{H}/team/app:1"]),
    ("inspect containers-storage:team/app", []),
    ("inspect dir:/tmp/x", []),
    # no hint
    ("inspect", NONE),
    (f"inspect docker://{H}/a docker://{H}/b", NONE),  # one image only
    (f"copy docker://{H}/a", NONE),
    (f"inspect --frobnicate docker://{H}/a/b", NONE),
    (f"inspect --help docker://{H}/a/b", NONE),
    (f"-h inspect docker://{H}/a/b", NONE),
    ("--version", NONE),
    ("inspect --authfile", NONE),
    (f"inspect --raw=maybe docker://{H}/a/b", NONE),
    (f"sync --src docker --dest dir docker://{H}/a /tmp/x", NONE),
    (f"login {H}", NONE),
    (f"standalone-sign docker://{H}/a", NONE),
]

PODMAN = [
    (f"pull {H}/team/app", [f"{H}/team/app"]),
    ("pull team/app", ["team/app"]),
    ("pull alpine", ["alpine"]),
    (f"pull {H}/a {H}/b", [f"{H}/a", f"{H}/b"]),
    (f"pull --tls-verify=false {H}/team/app", [f"{H}/team/app"]),
    (f"pull {H}/team/app --quiet", [f"{H}/team/app"]),
    (f"pull -q --authfile /a.json {H}/team/app", [f"{H}/team/app"]),
    (f"pull --creds u:p {H}/team/app", [f"{H}/team/app"]),
    (f"pull --platform linux/arm64 {H}/team/app", [f"{H}/team/app"]),
    (f"pull --arch arm64 --os linux --variant v8 {H}/team/app", [f"{H}/team/app"]),
    (f"pull -a {H}/team/app", [f"{H}/team/app"]),
    (f"pull docker://{H}/team/app", [f"{H}/team/app"]),
    ("pull oci-archive:/tmp/x.tar", []),
    (f"--root /r --runroot /rr --storage-driver vfs pull {H}/a", [f"{H}/a"]),
    (f"--cgroup-manager=cgroupfs --events-backend none pull {H}/a", [f"{H}/a"]),
    (f"--log-level debug pull {H}/a", [f"{H}/a"]),
    (f"pull --log-level=error {H}/a", [f"{H}/a"]),  # root options are persistent
    (f"--tmpdir /t pull --root /r {H}/a", [f"{H}/a"]),
    (f"image pull {H}/team/app", [f"{H}/team/app"]),
    (f"image push {H}/team/app", [f"{H}/team/app"]),
    (f"push {H}/team/app", [f"{H}/team/app"]),
    (f"push localimage {H}/team/app", [f"{H}/team/app"]),  # the destination
    (f"push localimage docker://{H}/team/app:2", [f"{H}/team/app:2"]),
    ("push localimage oci:/tmp/x", []),
    (f"push --tls-verify=false --format v2s2 {H}/a", [f"{H}/a"]),
    (f"push -q --compression-format gzip {H}/a", [f"{H}/a"]),
    (f"push --sign-by key@x {H}/a", [f"{H}/a"]),
    (f"run {H}/team/app", [f"{H}/team/app"]),
    (f"run --rm -it {H}/team/app sh", [f"{H}/team/app"]),
    (f"run -d --name web -p 8080:80 {H}/team/app", [f"{H}/team/app"]),
    (f"run -e A=1 -v /a:/b {H}/team/app env", [f"{H}/team/app"]),
    (f"run {H}/team/app --rm -e X", [f"{H}/team/app"]),  # after the image: its command
    (f"run -h myhost {H}/a", [f"{H}/a"]),  # -h is --hostname
    (f"run --pull always --tls-verify=false {H}/a", [f"{H}/a"]),
    (f"run --network none --security-opt label=disable {H}/a", [f"{H}/a"]),
    (f"container run --rm {H}/a", [f"{H}/a"]),
    (f"create --name x {H}/a cmd", [f"{H}/a"]),
    (f"container create -t {H}/a", [f"{H}/a"]),
    (f"create --init-ctr once --pod p {H}/a", [f"{H}/a"]),
    # no hint
    ("pull", NONE),
    (f"pull --frobnicate {H}/a", NONE),
    (f"pull --help {H}/a", NONE),
    (f"--version pull {H}/a", NONE),
    (f"push {H}/a {H}/b {H}/c", NONE),
    (f"run --rootfs /tmp/root {H}/a", NONE),  # the operand is a folder
    ("run --name", NONE),
    (f"image ls {H}/a", NONE),
    (f"build -t {H}/a .", NONE),
    (f"login {H}", NONE),
    (f"tag {H}/a {H}/b", NONE),
]

BUILDAH = [
    (f"pull {H}/team/app", [f"{H}/team/app"]),
    ("pull team/app", ["team/app"]),
    (f"pull --tls-verify=false {H}/team/app", [f"{H}/team/app"]),
    (f"pull -q {H}/team/app", [f"{H}/team/app"]),
    (f"pull --all-tags {H}/team/app", [f"{H}/team/app"]),
    (f"pull --authfile /a.json {H}/a", [f"{H}/a"]),
    (f"pull --creds=u:p {H}/a", [f"{H}/a"]),
    (f"pull --platform linux/arm64 {H}/a", [f"{H}/a"]),
    (f"pull --retry 3 --retry-delay 2s {H}/a", [f"{H}/a"]),
    (f"pull --policy always {H}/a", [f"{H}/a"]),
    (f"pull docker://{H}/a", [f"{H}/a"]),
    (f"--root /r --runroot /rr pull {H}/a", [f"{H}/a"]),
    (f"--storage-driver vfs pull {H}/a", [f"{H}/a"]),
    (f"pull --root /r {H}/a", [f"{H}/a"]),  # root options are persistent
    (f"--log-level debug pull {H}/a", [f"{H}/a"]),
    (f"push {H}/a", [f"{H}/a"]),
    (f"push localimage {H}/a", [f"{H}/a"]),
    (f"push localimage docker://{H}/a:2", [f"{H}/a:2"]),
    ("push localimage dir:/tmp/x", []),
    (f"push --tls-verify=false {H}/a", [f"{H}/a"]),
    (f"push -D --format oci {H}/a", [f"{H}/a"]),
    (f"push --rm -q {H}/a", [f"{H}/a"]),
    (f"push --digestfile /d {H}/a", [f"{H}/a"]),
    (f"push --compression-format zstd --compression-level 3 {H}/a", [f"{H}/a"]),
    (f"from {H}/team/app", [f"{H}/team/app"]),
    ("from alpine", ["alpine"]),
    (f"from --name c1 {H}/a", [f"{H}/a"]),
    (f"from --pull {H}/a", [f"{H}/a"]),  # --pull alone takes no value
    (f"from --pull=always {H}/a", [f"{H}/a"]),
    (f"from --tls-verify=false -q {H}/a", [f"{H}/a"]),
    (f"from --cap-add SYS_ADMIN --volume /a:/b {H}/a", [f"{H}/a"]),
    (f"from -v /a:/b -m 1g {H}/a", [f"{H}/a"]),
    (f"from --arch arm64 --os linux {H}/a", [f"{H}/a"]),
    (f"from --format docker {H}/a", [f"{H}/a"]),
    # no hint
    ("pull", NONE),
    (f"pull {H}/a -q", NONE),  # buildah refuses options after the image
    (f"from {H}/a --name x", NONE),
    (f"pull {H}/a {H}/b", NONE),
    (f"pull --frobnicate {H}/a", NONE),
    (f"pull --help {H}/a", NONE),
    (f"--version from {H}/a", NONE),
    (f"push {H}/a {H}/b {H}/c", NONE),
    (f"bud -t {H}/a .", NONE),
    (f"login {H}", NONE),
    ("from --name", NONE),
]


def _check(client: str, line: str, expected: list[str] | None) -> None:
    assert images(client, [client, *shlex.split(line)]) == expected


@pytest.mark.parametrize(("line", "expected"), SKOPEO, ids=[c[0] for c in SKOPEO])
def test_skopeo(line: str, expected: list[str] | None) -> None:
    _check("skopeo", line, expected)


@pytest.mark.parametrize(("line", "expected"), PODMAN, ids=[c[0] for c in PODMAN])
def test_podman(line: str, expected: list[str] | None) -> None:
    _check("podman", line, expected)


@pytest.mark.parametrize(("line", "expected"), BUILDAH, ids=[c[0] for c in BUILDAH])
def test_buildah(line: str, expected: list[str] | None) -> None:
    _check("buildah", line, expected)


def test_each_table_has_at_least_forty_command_lines() -> None:
    assert min(len(SKOPEO), len(PODMAN), len(BUILDAH)) >= 40


def test_an_unknown_client_names_nothing() -> None:
    assert images("crane", ["crane", "pull", f"{H}/a"]) is None
