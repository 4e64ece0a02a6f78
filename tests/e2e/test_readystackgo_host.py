"""A ReadyStackGo host as it is: its container, its volume, its WAL database, and one command.

The container runs a stand-in image `wiesenwischer/readystackgo:test` (Debian's busybox-static as
its whole file system, made with `docker import`); its data folder is the volume
`readystackgo-data` at /app/data, and the database in it is written the EF Core way.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from readystackgo import RunningReadyStackGo, create_readystackgo_database

from .dockerd import Dockerd
from .sandbox import HELPER_NAME, Sandbox, output
from .tools import require_tool

pytestmark = pytest.mark.e2e

IMAGE = "wiesenwischer/readystackgo:test"
VOLUME = "readystackgo-data"
NO_SETTING = ("READYSTACK_DB", "DataPath", "ConnectionStrings__ReadyStackGo")


def _docker(dockerd: Dockerd, *args: str, stdin: bytes = b"") -> str:
    proc = subprocess.run(
        ["docker", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "DOCKER_HOST": dockerd.host, "HOME": "/"},
    )
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout.decode().strip()


def _rootfs() -> bytes:
    """A tar of a file system holding only busybox and the links a container needs."""
    busybox = Path(require_tool("busybox")).resolve().read_bytes()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        folder = tarfile.TarInfo("bin")
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(folder)
        binary = tarfile.TarInfo("bin/busybox")
        binary.size, binary.mode = len(busybox), 0o755
        tar.addfile(binary, io.BytesIO(busybox))
        for name in ("sh", "sleep", "true"):
            link = tarfile.TarInfo(f"bin/{name}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    return out.getvalue()


@pytest.fixture(scope="module")
def image(dockerd: Dockerd) -> str:
    """The stand-in ReadyStackGo image in the private dockerd."""
    _docker(dockerd, "import", "-", IMAGE, stdin=_rootfs())
    return IMAGE


@pytest.fixture
def engine(image: str, dockerd: Dockerd) -> Iterator[Dockerd]:
    """The private dockerd; every container and the volume a test made are removed after it."""
    yield dockerd
    for name in _docker(dockerd, "ps", "-aq").split():
        _docker(dockerd, "rm", "-f", name)
    if VOLUME in _docker(dockerd, "volume", "ls", "-q").split():
        _docker(dockerd, "volume", "rm", VOLUME)


def _container(dockerd: Dockerd, name: str, *options: str) -> None:
    _docker(
        dockerd,
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        name,
        *options,
        IMAGE,
        "/bin/sleep",
        "3600",
    )


def _world(sandbox: Sandbox, dockerd: Dockerd) -> Sandbox:
    sandbox.use_daemon(dockerd)
    for name in NO_SETTING:
        sandbox.env.pop(name, None)
    return sandbox


def _configure(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return sandbox.run([HELPER_NAME, "configure-docker", "--readystackgo", *args])


def _untouched(sandbox: Sandbox) -> None:
    assert not (sandbox.root / "xdg-config").exists()
    assert not (sandbox.docker_config / "config.json").exists()


def test_one_command_wires_docker_to_readystackgos_database(
    sandbox: Sandbox, engine: Dockerd
) -> None:
    sandbox = _world(sandbox, engine)
    _docker(engine, "volume", "create", VOLUME)
    _container(engine, "readystackgo", "-v", f"{VOLUME}:/app/data", "-e", "DataPath=/app/data")
    mountpoint = Path(_docker(engine, "volume", "inspect", "-f", "{{.Mountpoint}}", VOLUME))
    db = mountpoint / "readystackgo.db"
    create_readystackgo_database(db)
    with RunningReadyStackGo(db) as running:  # ReadyStackGo runs: -wal and -shm are there
        running.add(
            "Local registry", sandbox.registry.url, "alice", "s3cret-a", patterns=["team/*"]
        )
        proc = _configure(sandbox)
        assert proc.returncode == 0, output(proc)
        config = sandbox.root / "xdg-config" / "docker-credential-readystack" / "config"
        assert config.read_text() == f"database = {db}\n"
        helpers = sandbox.docker_config_json()["credHelpers"]
        assert helpers == {sandbox.registry.host: "readystack"}
        mark = sandbox.registry.log_mark()
        pull = sandbox.run(["docker", "pull", f"{sandbox.registry.host}/team/app:1"])
        assert pull.returncode == 0, output(pull)
        assert sandbox.registry.users_seen(mark) == {"alice"}
    assert sorted(p.name for p in mountpoint.iterdir()) == ["readystackgo.db"]


def test_an_empty_database_is_remembered_and_no_host_added(
    sandbox: Sandbox, engine: Dockerd
) -> None:
    sandbox = _world(sandbox, engine)
    _docker(engine, "volume", "create", VOLUME)
    connection = "ConnectionStrings__ReadyStackGo=Data Source=/app/data/rsg.db;Cache=Shared"
    _container(engine, "readystackgo", "-v", f"{VOLUME}:/app/data", "-e", connection)
    mountpoint = Path(_docker(engine, "volume", "inspect", "-f", "{{.Mountpoint}}", VOLUME))
    create_readystackgo_database(mountpoint / "rsg.db")
    proc = _configure(sandbox, "readystackgo")
    assert proc.returncode == 0, output(proc)
    assert "no registry host" in proc.stdout
    config = sandbox.root / "xdg-config" / "docker-credential-readystack" / "config"
    assert config.read_text() == f"database = {mountpoint / 'rsg.db'}\n"
    assert not (sandbox.docker_config / "config.json").exists()


def test_refuses_when_no_engine_answers(sandbox: Sandbox) -> None:
    proc = sandbox.run([HELPER_NAME, "configure-docker", "--readystackgo"])  # DOCKER_HOST: none
    assert proc.returncode == 1, output(proc)
    assert "no Docker Engine answers at unix:///nonexistent" in proc.stderr
    assert "Error" not in proc.stderr and "Traceback" not in proc.stderr
    _untouched(sandbox)


def test_refuses_a_container_that_does_not_exist(sandbox: Sandbox, engine: Dockerd) -> None:
    sandbox = _world(sandbox, engine)
    proc = _configure(sandbox, "nosuch")
    assert proc.returncode == 1 and "no container named or with id 'nosuch'" in proc.stderr
    default = _configure(sandbox)
    assert default.returncode == 1 and "no ReadyStackGo container" in default.stderr
    _untouched(sandbox)


def test_refuses_two_candidates_and_lists_them(sandbox: Sandbox, engine: Dockerd) -> None:
    sandbox = _world(sandbox, engine)
    _container(engine, "rsg-a")
    _container(engine, "rsg-b")
    proc = _configure(sandbox)
    assert proc.returncode == 1, output(proc)
    assert f"rsg-a ({IMAGE}), rsg-b ({IMAGE})" in proc.stderr or (
        f"rsg-b ({IMAGE}), rsg-a ({IMAGE})" in proc.stderr
    )
    assert "--readystackgo CONTAINER" in proc.stderr
    _untouched(sandbox)


def test_refuses_a_data_folder_that_is_not_on_a_volume(sandbox: Sandbox, engine: Dockerd) -> None:
    sandbox = _world(sandbox, engine)
    _container(engine, "readystackgo")
    proc = _configure(sandbox)
    assert proc.returncode == 1, output(proc)
    assert "/app/data in container readystackgo is not on a volume or bind mount" in proc.stderr
    assert "-v readystackgo-data:/app/data" in proc.stderr
    _untouched(sandbox)


def test_refuses_a_database_it_cannot_read(sandbox: Sandbox, engine: Dockerd) -> None:
    sandbox = _world(sandbox, engine)
    data = sandbox.root / "bound"
    # Root reads every file, so the unreadable database is simulated by a folder in its place.
    (data / "readystackgo.db").mkdir(parents=True)
    _container(engine, "readystackgo", "-v", f"{data}:/app/data")
    proc = _configure(sandbox)
    assert proc.returncode == 1, output(proc)
    assert f"{data}/readystackgo.db is a folder, not a database file" in proc.stderr
    _untouched(sandbox)
