"""configure-docker --readystackgo: the container's database path and where it is on the host."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
from readystack.helper.manage import rsghost
from readystack.store import settings
from readystack.store.verberrors import AdminError


def _attrs(env: list[str] | None = None, mounts: list[dict] | None = None, workdir: str = "/app"):
    return {"Config": {"Env": env or [], "WorkingDir": workdir}, "Mounts": mounts or []}


@pytest.mark.parametrize(
    ("env", "inside"),
    [
        ([], "/app/data/readystackgo.db"),
        (["DataPath=/srv/rsg"], "/srv/rsg/readystackgo.db"),
        (["DataPath=state"], "/app/state/readystackgo.db"),
        (
            ["ConnectionStrings__ReadyStackGo=Data Source=/app/data/x.db", "DataPath=/y"],
            "/app/data/x.db",
        ),
        (["ConnectionStrings__ReadyStackGo=filename='db/r.db';Pooling=False"], "/app/db/r.db"),
    ],
)
def test_database_in_container_reads_the_connection_string_then_datapath(
    env: list[str], inside: str
) -> None:
    assert rsghost.database_in_container(_attrs(env)) == inside


def test_the_deepest_mount_maps_the_database_to_the_host() -> None:
    mounts = [
        {"Type": "bind", "Source": "/srv/app", "Destination": "/app"},
        {"Type": "volume", "Name": "rsgo-data", "Source": "/v/_data", "Destination": "/app/data"},
    ]
    found = rsghost.host_path_of(_attrs(mounts=mounts), "/app/data/readystackgo.db", "r")
    assert found == ("/v/_data/readystackgo.db", "volume rsgo-data")
    bind = rsghost.host_path_of(_attrs(mounts=mounts[:1]), "/app/data/readystackgo.db", "r")
    assert bind == ("/srv/app/data/readystackgo.db", "bind mount")


@pytest.mark.parametrize(
    "mounts",
    [
        [],
        [{"Type": "tmpfs", "Destination": "/app/data"}],
        [{"Type": "bind", "Source": "/x", "Destination": "/app/database"}],
    ],
)
def test_a_data_folder_outside_volumes_and_binds_is_refused(mounts: list[dict]) -> None:
    with pytest.raises(AdminError, match="/app/data in container r is not on a volume or bind"):
        rsghost.host_path_of(_attrs(mounts=mounts), "/app/data/readystackgo.db", "r")


@pytest.mark.parametrize(
    ("image", "ours"),
    [
        ("wiesenwischer/readystackgo", True),
        ("wiesenwischer/readystackgo:0.5.1", True),
        ("docker.io/wiesenwischer/readystackgo:latest", True),
        ("wiesenwischer/readystackgo@sha256:" + "0" * 64, True),
        ("localhost:5000/wiesenwischer/readystackgo:1", False),
        ("wiesenwischer/readystackgo-agent:1", False),
        ("sha256:" + "0" * 64, False),
        (None, False),
    ],
)
def test_readystackgo_images_under_any_tag(image: str | None, ours: bool) -> None:
    assert rsghost.is_readystackgo_image(image) is ours


def test_an_unreadable_database_is_refused_with_the_advice_to_use_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "readystackgo.db"
    db.write_bytes(b"")

    def refuse(*_: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(rsghost.os, "open", refuse)
    with pytest.raises(AdminError, match=r"Permission denied.*readable by root only.*--system"):
        rsghost.readable_hosts(str(db), system=False)


def test_other_configure_modes_do_not_mix_with_readystackgo() -> None:
    ns = argparse.Namespace(remove=True, creds_store=False, registries=None, environ={})
    with pytest.raises(AdminError, match="without --remove"):
        rsghost.run(ns)


def test_set_value_replaces_the_key_and_keeps_every_other_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cfg" / "config"
    settings.set_value(str(path), "database", "/a.db")
    assert path.read_text() == "database = /a.db\n"
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    path.write_text(
        "# mine\nsecrets = keyring\n  DATABASE=/old.db\n#database = /c.db\ndatabase = /d\n"
    )
    settings.set_value(str(path), "database", "/b.db")
    assert path.read_text() == "# mine\nsecrets = keyring\ndatabase = /b.db\n#database = /c.db\n"
    assert [p.name for p in path.parent.iterdir()] == ["config"]


@pytest.mark.parametrize(
    ("image", "allowed", "ours"),
    [
        ("alpine", None, False),
        ("alpine", "alpine", True),
        ("docker.io/library/alpine:3.19", "alpine", True),
        ("alpine:3.19", "alpine:3.20", False),
        ("me/rsg@sha256:" + "1" * 64, "me/rsg@sha256:" + "1" * 64, True),
        ("me/rsg:dev", "me/rsg", True),
        ("me/rsg-evil:dev", "me/rsg", False),
        ("wiesenwischer/readystackgo:1", "alpine", True),
    ],
)
def test_allow_image_accepts_one_more_image(image: str, allowed: str | None, ours: bool) -> None:
    assert rsghost.is_readystackgo_image(image, allowed) is ours


def test_a_container_with_another_image_is_refused_naming_it_escaped() -> None:
    class Container:
        name = "readystackgo"
        attrs = {"Config": {"Image": "alpine\x1b[2J"}}

    with pytest.raises(AdminError) as refused:
        rsghost.check_image(Container(), None)
    assert "runs alpine\\x1b[2J, not wiesenwischer/readystackgo" in str(refused.value)
    assert "\x1b" not in str(refused.value)


def test_check_owners_trusts_this_user_and_refuses_group_writable_folders(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = data / "readystackgo.db"
    db.write_bytes(b"")
    db.chmod(0o644)
    rsghost.check_owners(str(db))
    data.chmod(0o770)
    group = r"its folder .*/data is writable by its group \(mode 0770\)"
    with pytest.raises(AdminError, match=group):
        rsghost.check_owners(str(db))
