"""The config file: discovery, precedence, parsing, and what doctor is told about bad lines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from readystack.store import paths, settings, verberrors


@pytest.fixture
def system_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A system config file of our own in place of /etc's, and no cached reads around the test."""
    path = tmp_path / "etc" / "config"
    path.parent.mkdir()
    monkeypatch.setattr(settings, "SYSTEM_FILE", str(path))
    settings.forget()
    yield path
    settings.forget()


def _user_file(environ: dict[str, str], text: str) -> Path:
    path = Path(settings.user_file(environ))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_user_file_is_under_xdg_config_home_else_dot_config(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    assert settings.user_file(home) == f"{tmp_path}/.config/docker-credential-readystack/config"
    xdg = {**home, "XDG_CONFIG_HOME": "/x"}
    assert settings.user_file(xdg) == "/x/docker-credential-readystack/config"
    relative = {**home, "XDG_CONFIG_HOME": "rel"}  # invalid per the XDG spec: ignored
    assert settings.user_file(relative) == settings.user_file(home)


def test_missing_files_are_normal(environ: dict[str, str], system_file: Path) -> None:
    assert settings.get(environ, "secrets") is None
    assert settings.problems(environ) == []


def test_environment_wins_then_user_file_then_system_file(
    environ: dict[str, str], system_file: Path
) -> None:
    system_file.write_text("secrets = keyring\nreadonly = true\nsync-from = /srv/a.db\n")
    _user_file(environ, "readonly = false\n")
    assert settings.get(environ, "secrets") == "keyring"
    assert settings.get(environ, "readonly") == "false"
    assert settings.get(environ, "sync-from") == "/srv/a.db"
    assert settings.get({**environ, "READYSTACK_READONLY": "1"}, "readonly") == "1"
    assert settings.lookup(environ, "readonly") == ("false", settings.user_file(environ))
    assert settings.lookup(environ, "sync-from") == ("/srv/a.db", str(system_file))


def test_enabled_reads_true_and_false_words(environ: dict[str, str], system_file: Path) -> None:
    _user_file(environ, "image-hint = FALSE\n")
    assert settings.enabled(environ, "image-hint", True) is False
    assert settings.enabled({**environ, "READYSTACK_IMAGE_HINT": "on"}, "image-hint", False)
    assert settings.enabled({**environ, "READYSTACK_IMAGE_HINT": "??"}, "image-hint", True)


def test_comments_blank_lines_spaces_and_a_bom(environ: dict[str, str], system_file: Path) -> None:
    _user_file(environ, "\ufeff# a comment\n\n   # indented comment\n\tsecrets=  keyring  \r\n")
    assert settings.get(environ, "secrets") == "keyring"
    assert settings.problems(environ) == []


def test_malformed_lines_are_skipped_and_reported(
    environ: dict[str, str], system_file: Path
) -> None:
    user = _user_file(
        environ,
        "no equals sign\ncolour = blue\nsecrets = vault\nreadonly =\nsecrets = database\n",
    )
    user.write_bytes(user.read_bytes() + b"readonly = \xff\n")
    assert settings.get(environ, "secrets") == "database"
    assert settings.get(environ, "readonly") is None
    found = settings.problems(environ)
    assert [p.split(": ", 1)[0] for p in found] == [f"{user} line {n}" for n in (1, 2, 3, 4, 6)]
    assert all(p.endswith("line skipped") for p in found)
    assert "unknown key 'colour'" in found[1] and "database or keyring" in found[2]


def test_an_unreadable_file_is_reported_not_fatal(
    environ: dict[str, str], system_file: Path
) -> None:
    os.replace(system_file.parent, system_file.parent.with_name("gone"))
    Path(settings.SYSTEM_FILE).mkdir(parents=True)  # a folder where the file should be
    _user_file(environ, "secrets = keyring\n")
    assert settings.get(environ, "secrets") == "keyring"
    assert settings.get(environ, "readonly") is None
    assert settings.problems(environ) == [f"cannot read {settings.SYSTEM_FILE}: Is a directory"]


def test_a_fifo_at_the_path_does_not_hang(environ: dict[str, str], system_file: Path) -> None:
    os.mkfifo(system_file)
    assert settings.get(environ, "secrets") is None


def test_database_paths_expand_home_and_follow_the_file(
    environ: dict[str, str], system_file: Path
) -> None:
    system_file.write_text("database = data/rsg.db\n")
    expected = (str(system_file.parent / "data/rsg.db"), str(system_file))
    assert settings.database(environ) == expected
    _user_file(environ, "database = ~/rsg.db\n")
    settings.forget()  # a lookup reads each file once; this one changed since
    assert settings.database(environ)[0] == os.path.join(environ["HOME"], "rsg.db")


def test_config_database_comes_after_datapath_and_before_the_container(
    environ: dict[str, str], system_file: Path
) -> None:
    user = _user_file(environ, "database = /srv/rsg.db\n")
    del environ["READYSTACK_DB"]
    assert paths.database_path(environ) == ("/srv/rsg.db", f"database in {user}")
    with_datapath = {**environ, "DataPath": "/dp"}
    assert paths.database_path(with_datapath) == ("/dp/readystackgo.db", "DataPath")
    connection = {**with_datapath, "ConnectionStrings__ReadyStackGo": "Data Source=/cs/r.db"}
    assert paths.database_path(connection) == ("/cs/r.db", "ConnectionStrings__ReadyStackGo")
    assert paths.database_path({**connection, "READYSTACK_DB": "/e.db"})[0] == "/e.db"


def test_an_unusable_connection_string_is_passed_over_and_reported(
    environ: dict[str, str], system_file: Path
) -> None:
    del environ["READYSTACK_DB"]
    broken = {**environ, "ConnectionStrings__ReadyStackGo": "Mode=ReadOnly", "DataPath": "/dp"}
    assert paths.database_path(broken) == ("/dp/readystackgo.db", "DataPath")
    problems = paths.database_problems(broken)
    assert problems == ["ConnectionStrings__ReadyStackGo is passed over: it names no Data Source"]


def test_a_symlink_in_the_last_component_is_not_followed(
    environ: dict[str, str], system_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("secrets = TOPSECRET-VALUE\n")
    user = _user_file(environ, "")
    user.unlink()
    user.symlink_to(target)
    assert settings.get(environ, "secrets") is None
    problems = settings.problems(environ)
    assert problems == [f"ignoring {user}: it is a symbolic link, which is not followed"]


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        (0o664, "it is writable by its group (mode 0664)"),
        (0o646, "it is writable by others (mode 0646)"),
        (0o666, "it is writable by group and others (mode 0666)"),
    ],
)
def test_a_file_group_or_others_may_write_is_ignored_with_one_line(
    environ: dict[str, str],
    system_file: Path,
    capsys: pytest.CaptureFixture[str],
    mode: int,
    why: str,
) -> None:
    user = _user_file(environ, "secrets = keyring\n")
    user.chmod(mode)
    assert settings.get(environ, "secrets") is None
    assert settings.get(environ, "readonly") is None  # read once: one line, not one per key
    expected = f"ignoring the config file {user}: {why}; only this user or root may write it"
    assert capsys.readouterr().err == f"docker-credential-readystack: {expected} and its folders\n"


def test_a_folder_writable_by_others_counts_unless_it_is_sticky(
    environ: dict[str, str], system_file: Path
) -> None:
    user = _user_file(environ, "secrets = keyring\n")
    user.parent.chmod(0o777)
    assert settings.get(environ, "secrets") is None
    user.parent.chmod(0o1777)  # as /tmp: only an entry's owner may replace it
    settings.forget()
    assert settings.get(environ, "secrets") == "keyring"


def test_another_users_file_is_ignored_and_ours_and_roots_are_trusted(
    environ: dict[str, str], system_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _user_file(environ, "secrets = keyring\n")
    owner = user.stat().st_uid
    for euid, trusted in ((owner, True), (owner + 4242, owner == 0)):
        monkeypatch.setattr(os, "geteuid", lambda e=euid: e)
        settings.forget()
        assert (settings.get(environ, "secrets") == "keyring") is trusted, euid
    if owner == 0:  # a root-owned file is trusted by every user: the system file is one
        assert not settings.problems(environ)


@pytest.mark.parametrize(
    "value", ["/x/nl\nsync-from = /y", "/x\r", "/x\x1b[2J", "/x\x85", " /x", "/x\t"], ids=repr
)
def test_set_value_refuses_control_characters_explicitly(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config"
    with pytest.raises(verberrors.UnsafeValue):
        settings.set_value(str(path), "database", value)
    assert not path.exists()
    with pytest.raises(verberrors.UnsafeValue):
        settings.set_value(str(path), "colour", "/x")


def test_set_value_refuses_under_python_o(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "config"
    code = (
        "import sys\nfrom readystack.store import settings, verberrors\n"
        "try:\n    settings.set_value(sys.argv[1], 'database', '/x/nl\\nsync-from = /y')\n"
        "except verberrors.UnsafeValue:\n    sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-O", "-c", code, str(path)], timeout=60)
    assert proc.returncode == 3
    assert not path.exists()


def test_set_value_keeps_lines_byte_for_byte_and_refuses_to_edit_a_symlink(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config"
    path.write_bytes(b"# caf\xc3\xa9 \xff\r\nsecrets = keyring\n")
    settings.set_value(str(path), "database", "/a.db")
    assert path.read_bytes() == b"# caf\xc3\xa9 \xff\r\nsecrets = keyring\ndatabase = /a.db\n"
    link = tmp_path / "link"
    link.symlink_to(path)
    with pytest.raises(verberrors.UnsafeValue, match="symbolic link"):
        settings.set_value(str(link), "database", "/b.db")
    assert link.is_symlink()
