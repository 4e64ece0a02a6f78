"""configure-docker: credHelpers/credsStore written atomically, other keys and helpers kept."""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from readystack.helper.manage import configure
from readystack.store import dockerconfig, paths
from readystack.store.verberrors import AdminError

HUB_V1 = "https://index.docker.io/v1/"
OTHER = {
    "auths": {"ghcr.io": {}, "quay.io": {"auth": "dTpw"}},
    "credHelpers": {"gcr.io": "gcloud"},
    "psFormat": "table {{.ID}}",
    "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
}


def ns(
    registries: str | None = None,
    creds_store: bool = False,
    overwrite: bool = False,
    remove: bool = False,
    db: str | None = None,
) -> argparse.Namespace:
    return argparse.Namespace(
        registries=registries,
        creds_store=creds_store,
        overwrite=overwrite,
        remove=remove,
        db=db,
        environ=dict(os.environ),  # read when called: the fixtures set the variables first
    )


@pytest.fixture
def docker_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "docker"
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("READYSTACK_DB", raising=False)
    return folder


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return path


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def test_docker_config_path_follows_docker_config(docker_dir: Path) -> None:
    assert paths.docker_config_path(os.environ) == str(docker_dir / "config.json")


def test_hub_gets_the_keys_docker_and_skopeo_look_up() -> None:
    assert dockerconfig.keys_for("docker.io") == [HUB_V1, "docker.io"]
    assert dockerconfig.keys_for("ghcr.io") == ["ghcr.io"]


def test_new_config_file(docker_dir: Path) -> None:
    assert configure.run(ns("ghcr.io,https://index.docker.io/v1/")) == 0
    path = docker_dir / "config.json"
    assert read(path) == {
        "credHelpers": {"ghcr.io": "readystack", HUB_V1: "readystack", "docker.io": "readystack"}
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_existing_config_keeps_other_keys(docker_dir: Path) -> None:
    path = write(docker_dir / "config.json", OTHER)
    path.chmod(0o644)
    configure.run(ns("ghcr.io, docker.io ,localhost:5000"))
    data = read(path)
    assert {k: v for k, v in data.items() if k != "credHelpers"} == {
        k: v for k, v in OTHER.items() if k != "credHelpers"
    }
    assert data["credHelpers"] == {
        "gcr.io": "gcloud",
        "ghcr.io": "readystack",
        HUB_V1: "readystack",
        "docker.io": "readystack",
        "localhost:5000": "readystack",
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in docker_dir.iterdir()] == ["config.json"]  # no temp file left


@pytest.mark.parametrize("registries", ["registry-1.docker.io", "index.docker.io", HUB_V1])
def test_hub_gets_both_keys(docker_dir: Path, registries: str) -> None:
    configure.run(ns(registries))
    assert read(docker_dir / "config.json")["credHelpers"] == {
        HUB_V1: "readystack",
        "docker.io": "readystack",
    }


def test_hosts_from_the_table(docker_dir: Path, tmp_path: Path, make_rsg: Any) -> None:
    db = make_rsg(tmp_path / "reg.db")
    db.add("Hub", "https://registry-1.docker.io")
    db.add("Ghcr", "https://GHCR.io/v2/")
    db.add("Token", HUB_V1 + "access-token", login=True)
    configure.run(ns(db=str(db.path)))
    assert read(docker_dir / "config.json")["credHelpers"] == {
        HUB_V1: "readystack",
        "docker.io": "readystack",
        "ghcr.io": "readystack",
    }


def test_empty_table_is_an_error(docker_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(AdminError):
        configure.run(ns(db=str(tmp_path / "missing.db")))
    assert not (docker_dir / "config.json").exists()


@pytest.mark.parametrize("registries", ["ftp://x.io", "bad host", "ghcr.io,a b"])
def test_bad_registries_refused(docker_dir: Path, registries: str) -> None:
    with pytest.raises(AdminError):
        configure.run(ns(registries))
    assert not (docker_dir / "config.json").exists()


def test_symlinked_config_stays_a_symlink(docker_dir: Path, tmp_path: Path) -> None:
    target = write(tmp_path / "dotfiles" / "docker.json", OTHER)
    docker_dir.mkdir()
    link = docker_dir / "config.json"
    link.symlink_to(target)
    configure.run(ns("ghcr.io"))
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert read(target)["credHelpers"]["ghcr.io"] == "readystack"
    assert read(target)["psFormat"] == OTHER["psFormat"]


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: file permissions are not enforced")
def test_read_only_config_refused(docker_dir: Path) -> None:
    path = write(docker_dir / "config.json", OTHER)
    before = path.read_bytes()
    path.chmod(0o444)
    docker_dir.chmod(0o555)
    try:
        with pytest.raises(AdminError):
            configure.run(ns("ghcr.io"))
    finally:
        docker_dir.chmod(0o755)
    assert path.read_bytes() == before


def test_immutable_config_refused_even_as_root(docker_dir: Path) -> None:
    # Root ignores permission bits; an immutable file and folder are read-only even for root.
    if os.geteuid() != 0:
        pytest.skip("covered by test_read_only_config_refused when not root")
    path = write(docker_dir / "config.json", OTHER)
    before = path.read_bytes()
    flag = subprocess.run(["chattr", "+i", str(path), str(docker_dir)], capture_output=True)
    if flag.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {flag.stderr.decode().strip()}")
    try:
        with pytest.raises(AdminError, match="not changed"):
            configure.run(ns("ghcr.io"))
    finally:
        subprocess.run(["chattr", "-i", str(path), str(docker_dir)], check=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in docker_dir.iterdir()) == ["config.json"]


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"x"', '{"credHelpers": []}'])
def test_malformed_config_refused_unchanged(docker_dir: Path, text: str) -> None:
    path = write(docker_dir / "config.json", text)
    with pytest.raises(AdminError):
        configure.run(ns("ghcr.io"))
    assert path.read_text() == text


def test_second_run_changes_nothing(docker_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure.run(ns("ghcr.io,docker.io"))
    path = docker_dir / "config.json"
    before = (path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns)
    capsys.readouterr()
    assert configure.run(ns("ghcr.io,docker.io")) == 0
    assert (path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns) == before
    assert "nothing changed" in capsys.readouterr().out


def test_other_helper_needs_overwrite(docker_dir: Path) -> None:
    path = write(docker_dir / "config.json", {"credHelpers": {"quay.io": "ecr-login"}})
    before = path.read_text()
    with pytest.raises(AdminError) as info:
        configure.run(ns("ghcr.io,quay.io"))
    assert "--overwrite" in str(info.value)
    assert path.read_text() == before  # not even ghcr.io was written
    configure.run(ns("ghcr.io,quay.io", overwrite=True))
    assert read(path)["credHelpers"] == {"quay.io": "readystack", "ghcr.io": "readystack"}


def test_creds_store_replaces_another_store_only_with_overwrite(docker_dir: Path) -> None:
    path = write(docker_dir / "config.json", {"credsStore": "desktop", "auths": {}})
    with pytest.raises(AdminError):
        configure.run(ns(creds_store=True, registries="ghcr.io"))
    assert read(path)["credsStore"] == "desktop"
    configure.run(ns(creds_store=True, overwrite=True, registries="ghcr.io"))
    assert read(path) == {"credsStore": "readystack", "auths": {}}


def test_remove_only_our_entries(docker_dir: Path) -> None:
    data = {
        **OTHER,
        "credsStore": "readystack",
        "credHelpers": {"gcr.io": "gcloud", "ghcr.io": "readystack", "docker.io": "readystack"},
    }
    path = write(docker_dir / "config.json", data)
    configure.run(ns(remove=True))
    expected = {k: v for k, v in data.items() if k != "credsStore"}
    expected["credHelpers"] = {"gcr.io": "gcloud"}
    assert read(path) == expected


def test_remove_some_registries(docker_dir: Path) -> None:
    helpers = {HUB_V1: "readystack", "docker.io": "readystack", "ghcr.io": "readystack"}
    path = write(docker_dir / "config.json", {"credsStore": "readystack", "credHelpers": helpers})
    configure.run(ns("docker.io", remove=True))
    assert read(path) == {"credsStore": "readystack", "credHelpers": {"ghcr.io": "readystack"}}


def test_remove_without_config(docker_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert configure.run(ns(remove=True)) == 0
    assert not (docker_dir / "config.json").exists()
    assert "nothing changed" in capsys.readouterr().out
