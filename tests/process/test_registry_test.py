"""`registry test` through the executable, without a registry: timeouts, usage, output shape."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from .conftest import Run

TIMEOUT = 1.0
SECRET = "hunter2-not-printed"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        yield int(sock.getsockname()[1])


def add(run: Run, name: str, url: str, *args: str, secret: str = SECRET) -> None:
    proc = run(
        "registry", "add", name, "--url", url, "--username", "me", *args, "--password-stdin",
        stdin=f"{secret}\n".encode(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def assert_no_secret(proc: object, *secrets: str) -> None:
    for secret in (SECRET, *secrets):
        assert secret.encode() not in proc.stdout + proc.stderr  # type: ignore[attr-defined]


def test_a_host_that_never_answers_is_unreachable_after_the_timeout(
    run: Run, silent_port: int
) -> None:
    add(run, "silent", f"http://127.0.0.1:{silent_port}")
    proc = run("registry", "test", "--timeout", str(TIMEOUT), "--json")
    assert proc.returncode == 1, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result == {
        "name": "silent",
        "host": f"127.0.0.1:{silent_port}",
        "status": "unreachable",
        "detail": f"no answer from 127.0.0.1:{silent_port} within 1 s",
    }
    assert_no_secret(proc)


def test_eight_silent_rows_take_about_one_timeout(run: Run, silent_port: int) -> None:
    for i in range(8):
        add(run, f"silent-{i}", f"https://127.0.0.1:{silent_port}")
    started = time.monotonic()
    proc = run("registry", "test", "--timeout", str(TIMEOUT), "--json")
    elapsed = time.monotonic() - started
    results = json.loads(proc.stdout)
    assert [r["status"] for r in results] == ["unreachable"] * 8, results
    assert [r["name"] for r in results] == [f"silent-{i}" for i in range(8)]
    # Generous: sequential checks would take 8 timeouts; start-up is included here.
    assert elapsed < 3 * TIMEOUT + 2, elapsed
    assert_no_secret(proc)


def test_human_output_is_one_line_per_row(run: Run, silent_port: int) -> None:
    add(run, "one", f"http://127.0.0.1:{silent_port}")
    add(run, "two", "http://127.0.0.1:1")  # nothing listens on port 1
    proc = run("registry", "test", "one", "two", "--timeout", str(TIMEOUT))
    assert proc.returncode == 1
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:3] == ["one", f"127.0.0.1:{silent_port}", "unreachable"]
    assert lines[1].split()[:3] == ["two", "127.0.0.1:1", "unreachable"]
    assert "Connection refused" in lines[1]
    assert_no_secret(proc)


def test_a_name_that_does_not_resolve_is_unreachable(run: Run) -> None:
    add(run, "nowhere", "https://registry.invalid")
    proc = run("registry", "test", "--json", "--timeout", "5")
    (result,) = json.loads(proc.stdout)
    assert result["status"] == "unreachable" and "resolve" in result["detail"], result
    assert_no_secret(proc)


def test_image_on_another_host_than_the_named_row_is_a_usage_error(run: Run) -> None:
    add(run, "ghcr", "https://ghcr.io")
    proc = run("registry", "test", "ghcr", "--image", "quay.io/acme/app:1")
    assert proc.returncode == 2
    assert proc.stdout == b"" and b"not on quay.io" in proc.stderr


@pytest.mark.parametrize(
    "args",
    [("--image", "Not A Reference"), ("--timeout", "0"), ("--timeout", "soon")],
)
def test_bad_options_are_usage_errors(run: Run, args: tuple[str, ...]) -> None:
    add(run, "ghcr", "https://ghcr.io")
    proc = run("registry", "test", *args)
    assert proc.returncode == 2
    assert proc.stdout == b""


def test_an_unknown_name_fails_and_nothing_is_checked(run: Run) -> None:
    proc = run("registry", "test", "nope")
    assert proc.returncode == 1 and b"no registry named 'nope'" in proc.stderr


def test_no_rows_with_credentials_says_so(run: Run) -> None:
    proc = run("registry", "test", "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == []
    assert b"no registry row with credentials" in proc.stderr


def test_doctor_online_reports_an_unreachable_row_as_a_problem(run: Run, silent_port: int) -> None:
    add(run, "silent", f"http://127.0.0.1:{silent_port}")
    proc = run("doctor", "--online", "--timeout", str(TIMEOUT))
    assert proc.returncode == 1
    assert b"PROBLEM  online: row 'silent'" in proc.stdout
    assert b"unreachable" in proc.stdout
    assert_no_secret(proc)


def test_proxies_from_the_environment_are_used_unless_no_proxy_names_the_host(
    run: Run, silent_port: int
) -> None:
    add(run, "plain", "http://127.0.0.1:1")  # nothing listens there: refused when direct
    add(run, "tls", "https://127.0.0.1:1")
    # A proxy that never answers, with credentials that must never be printed.
    proxy = f"http://user:px-secret@127.0.0.1:{silent_port}"
    args = ("registry", "test", "--json", "--timeout", str(TIMEOUT))
    proc = run(*args, HTTP_PROXY=proxy, HTTPS_PROXY=proxy)
    results = {r["name"]: r for r in json.loads(proc.stdout)}
    assert results["plain"]["status"] == "unreachable"
    assert "Connection refused" not in results["plain"]["detail"], results
    assert results["tls"]["status"] == "unreachable"
    assert f"proxy 127.0.0.1:{silent_port}" in results["tls"]["detail"], results
    assert f"proxy 127.0.0.1:{silent_port}" in results["plain"]["detail"], results
    assert_no_secret(proc, "px-secret")

    proc = run(*args, HTTP_PROXY=proxy, HTTPS_PROXY=proxy, NO_PROXY="127.0.0.1")
    results = {r["name"]: r for r in json.loads(proc.stdout)}
    assert "Connection refused" in results["plain"]["detail"], results
    assert "Connection refused" in results["tls"]["detail"], results
