"""compose v2's images: the private runtime folder, one `config` run shared, failures kept."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from readystack.helper.lookup import compose
from readystack.helper.lookup.composeargv import read

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _fake_compose(tmp_path: Path, body: str) -> str:
    """A stand-in for the compose binary: a script that counts its runs and prints ``body``."""
    exe = tmp_path / "docker-compose"
    counter = tmp_path / "runs"
    exe.write_text(f"#!/bin/sh\necho run >> '{counter}'\n{body}\n")
    exe.chmod(0o755)
    return str(exe)


def _config_run(exe: str, environ: dict[str, str] | None = None) -> Callable[[], bytes]:
    """What the helper of a `docker-compose pull` makes its result with: ``exe``'s `config` run."""
    command = read(["docker-compose", "pull"], plugin=False)
    assert command is not None
    return lambda: compose._run_config(exe, command, os.getpid(), environ or {}, exe)


def _runs(tmp_path: Path) -> int:
    counter = tmp_path / "runs"
    return len(counter.read_text().splitlines()) if counter.exists() else 0


PROJECT = '{"services": {"web": {"image": "h:5000/team/app"}, "b": {"image": null}, "c": null}}'


def test_the_runtime_folder_is_made_private(runtime: Path) -> None:
    fd = compose.runtime_dir()
    os.close(fd)
    assert runtime.is_dir() and (runtime.stat().st_mode & 0o777) == 0o700


def test_a_symlink_in_its_place_is_refused(runtime: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    runtime.symlink_to(elsewhere)
    with pytest.raises(compose.Unknown):
        compose.runtime_dir()


def test_a_folder_others_can_read_is_refused(runtime: Path) -> None:
    runtime.mkdir(mode=0o755)
    runtime.chmod(0o755)
    with pytest.raises(compose.Unknown, match="not private"):
        compose.runtime_dir()


def test_config_is_run_once_and_its_images_kept(runtime: Path, tmp_path: Path) -> None:
    exe = _fake_compose(tmp_path, f"echo '{PROJECT}'")
    made = _config_run(exe, dict(os.environ))
    assert compose._cached("k", made) == {"web": "h:5000/team/app", "b": None, "c": None}
    assert compose._cached("k", made) == {"web": "h:5000/team/app", "b": None, "c": None}
    assert _runs(tmp_path) == 1


def test_helpers_started_together_share_one_run(runtime: Path, tmp_path: Path) -> None:
    exe = _fake_compose(tmp_path, f"sleep 0.3; echo '{PROJECT}'")
    made = _config_run(exe)
    results: list[object] = []

    def one() -> None:
        results.append(compose._cached("together", made))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 8 and all(r == results[0] for r in results)
    assert _runs(tmp_path) == 1


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("exit 1", "failed"),
        ("echo 'not json'", "no project"),
        ("echo '{\"services\": [1]}'", "no project"),
    ],
)
def test_a_failed_run_is_kept_as_unknown(
    runtime: Path, tmp_path: Path, body: str, why: str
) -> None:
    exe = _fake_compose(tmp_path, body)
    made = _config_run(exe)
    for _ in range(2):
        with pytest.raises(compose.Unknown, match=why):
            compose._cached(f"fail-{why}", made)
    assert _runs(tmp_path) == 1


def test_a_slow_run_is_cut_at_the_timeout(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compose, "TIMEOUT", 0.2)
    exe = _fake_compose(tmp_path, "sleep 5")
    with pytest.raises(compose.Unknown, match="took more than"):
        compose._cached("slow", _config_run(exe))


def test_the_parent_socket_is_dropped_and_the_rest_kept(runtime: Path, tmp_path: Path) -> None:
    exe = _fake_compose(
        tmp_path,
        'printf \'{"services": {"s": {"image": "%s|%s"}}}\' '
        '"$DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND" "${DOCKER_CLI_PLUGIN_SOCKET:-none}"',
    )
    env = {"DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND": "docker", "DOCKER_CLI_PLUGIN_SOCKET": "@s"}
    found = compose._cached("env", _config_run(exe, env))
    assert found == {"s": "docker|none"}


def test_a_helper_waiting_for_a_run_that_ended_without_a_result_makes_it(
    runtime: Path, tmp_path: Path
) -> None:
    import fcntl

    exe = _fake_compose(tmp_path, f"echo '{PROJECT}'")
    os.close(compose.runtime_dir())
    # Another helper holds the lock, then is killed before it stores anything.
    holder = os.open(runtime / "k.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    results: list[object] = []
    made = _config_run(exe)
    waiter = threading.Thread(target=lambda: results.append(compose._cached("k", made)))
    waiter.start()
    waiter.join(timeout=0.2)
    assert waiter.is_alive() and _runs(tmp_path) == 0  # it waits, and runs nothing yet
    os.close(holder)
    waiter.join(timeout=30)
    assert results == [{"web": "h:5000/team/app", "b": None, "c": None}]
    assert _runs(tmp_path) == 1


def test_waiting_for_a_run_that_never_ends_ends(
    runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    monkeypatch.setattr(compose, "WAIT", 0.2)
    os.close(compose.runtime_dir())
    holder = os.open(runtime / "hung.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        with pytest.raises(compose.Unknown, match="did not end"):
            compose._cached("hung", lambda: pytest.fail("it must not run"))  # type: ignore[arg-type,return-value]
    finally:
        os.close(holder)


def test_an_executable_that_does_not_start_is_unknown(runtime: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "gone")
    with pytest.raises(compose.Unknown, match="did not start"):
        compose._cached("gone", _config_run(missing))


def test_more_output_than_a_project_is_unknown(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compose, "_OUTPUT_MAX", 1000)
    exe = _fake_compose(tmp_path, "head -c 100000 /dev/zero; sleep 5")
    with pytest.raises(compose.Unknown, match="more than a project"):
        compose._cached("big", _config_run(exe))


@pytest.mark.parametrize(("given", "seen"), [({}, "400"), ({"GOGC": "50"}, "50")])
def test_go_collects_less_unless_the_user_said_otherwise(
    runtime: Path, tmp_path: Path, given: dict[str, str], seen: str
) -> None:
    exe = _fake_compose(tmp_path, 'printf \'{"services": {"s": {"image": "%s"}}}\' "$GOGC"')
    found = compose._cached("gc", _config_run(exe, given))
    assert found == {"s": seen}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["docker-compose", "pull"], {"web": "h:5000/team/app", "b": None, "c": None}),
        (["docker-compose", "pull", "web"], {"web": "h:5000/team/app"}),
        (["docker-compose", "pull", "--include-deps", "web"], None),  # all that config printed
        (["docker-compose", "pull", "nosuch"], "not in the project"),
        (["docker-compose", "-f", "-", "pull"], "not one whose images are certain"),
    ],
)
def test_the_helper_that_runs_config_stores_what_the_command_line_pulls(
    runtime: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    expected: dict[str, str | None] | str | None,
) -> None:
    exe = _fake_compose(tmp_path, f"echo '{PROJECT}'")
    real = compose._run_config
    monkeypatch.setattr(
        compose, "_run_config", lambda e, command, pid, env: real(e, command, pid, env, exe)
    )
    stored = compose._learn(argv, exe, os.getpid())
    if isinstance(expected, str):
        with pytest.raises(compose.Unknown, match=expected):
            compose._decode(stored)
        # A command line that is not certain runs nothing; a service not in the project, once.
        assert _runs(tmp_path) == (0 if "-" in argv else 1)
    else:
        everything = {"web": "h:5000/team/app", "b": None, "c": None}
        assert compose._decode(stored) == (everything if expected is None else expected)


def test_a_parent_that_is_not_compose_is_unknown() -> None:
    # The test's own parent is a shell or pytest's runner, never the compose binary.
    with pytest.raises(compose.Unknown, match="not the docker compose v2 binary"):
        compose.images(["docker-compose", "pull"])


def test_what_ended_compose_processes_left_is_swept(runtime: Path, tmp_path: Path) -> None:
    os.close(compose.runtime_dir())
    stale = runtime / "compose-999999999-1-0123456789abcdef.json"
    stale.write_text("{}")
    live = runtime / f"compose-{os.getpid()}-1-0123456789abcdef.json"
    live.write_text("{}")
    exe = _fake_compose(tmp_path, f"echo '{PROJECT}'")
    compose._cached("sweep", _config_run(exe))
    assert not stale.exists() and live.exists()


@pytest.mark.parametrize(
    "services",
    [{}, {"web": "h/a:1", "b": None}, {"x-y_z": "127.0.0.1:5000/team/app@sha256:" + "a" * 64}],
)
def test_the_stored_result_round_trips(services: dict[str, str | None]) -> None:
    assert compose._decode(compose._encode(services)) == services


@pytest.mark.parametrize(
    "services", [{"web": "a\tb"}, {"we\nb": "x"}, {"web": 3}], ids=["tab", "newline", "number"]
)
def test_what_the_result_cannot_hold_is_a_failure(services: dict[str, object]) -> None:
    with pytest.raises(compose.Unknown):
        compose._decode(compose._encode(services))


@pytest.mark.parametrize("data", [b"", b"ok\nweb", b"ok\nweb\n", b"\xff\n", b"maybe\n"])
def test_a_damaged_result_is_unknown(data: bytes) -> None:
    with pytest.raises(compose.Unknown):
        compose._decode(data)
