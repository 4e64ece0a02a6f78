"""`docker compose pull` of 8 images with the helper answering, paired against plaintext `auths`.

DESIGN.md's budget: at most 1.25x the same pull with the credentials in the config file, and the
helpers of one pull start at most one compose `config` run. A private registry (htpasswd) and a
private dockerd on 127.0.0.1/unix sockets; the images are pushed once and already present in
the daemon, so each pull asks the registry about 8 manifests. Skipped when docker-registry,
htpasswd, dockerd, docker or compose v2 (a CLI plugin) is missing.

Compose starts one helper per image, all at once, so the pull pays 8 start-ups on 2 cores. Two
floors show what any Python helper pays before it looks anything up: helpers that only print the
same credentials, one run as pip's console-script wrapper runs (the venv's interpreter with
`site`, `import re`), one as `python -I -S` (the bare interpreter).
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from . import log
from .timing import med

IMAGES = 8
USERS = {"alice": "bench-a", "bob": "bench-b"}
CONFIG_RUN = "image hint: running compose config"


class Skip(Exception):
    """A prerequisite is missing; the message says which."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise Skip(f"{what} did not start within {timeout:g} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise Skip(f"{name} is not installed")
    return path


@contextmanager
def _registry(tmp: str) -> Iterator[str]:
    """docker-registry with htpasswd users on a free port; yields host:port."""
    binary, htpasswd = _tool("docker-registry"), _tool("htpasswd")
    lines = [
        subprocess.run(
            [htpasswd, "-Bbn", u, p], check=True, capture_output=True, text=True
        ).stdout.strip()
        for u, p in USERS.items()
    ]
    with open(os.path.join(tmp, "htpasswd"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    port = _free_port()
    config = os.path.join(tmp, "registry.yml")
    with open(config, "w") as fh:
        fh.write(
            "version: 0.1\nlog: {level: error}\nstorage: {inmemory: {}}\n"
            f"http: {{addr: '127.0.0.1:{port}', secret: bench-not-a-secret}}\n"
            f"auth: {{htpasswd: {{realm: bench, path: '{tmp}/htpasswd'}}}}\n"
        )
    proc = subprocess.Popen(
        [binary, "serve", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait(lambda: _answers(port), "docker-registry")
        yield f"127.0.0.1:{port}"
    finally:
        _stop(proc)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def _dockerd() -> Iterator[str]:
    """A private dockerd (vfs, no networking of its own); yields its DOCKER_HOST."""
    binary = _tool("dockerd")
    work = tempfile.mkdtemp(prefix="rsbd", dir="/tmp")  # unix socket paths must stay short
    sock = os.path.join(work, "d.sock")
    args = [
        binary, "--storage-driver=vfs", "--iptables=false", "--ip6tables=false", "--bridge=none",
        f"--host=unix://{sock}", f"--data-root={work}/root", f"--exec-root={work}/x",
        f"--pidfile={work}/d.pid", "--config-file", os.path.join(work, "daemon.json"),
    ]  # fmt: skip
    with open(os.path.join(work, "daemon.json"), "w") as fh:
        fh.write("{}\n")
    with open(os.path.join(work, "dockerd.log"), "ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=out, start_new_session=True)
    try:
        _wait(lambda: os.path.exists(sock) or proc.poll() is not None, "dockerd")
        if proc.poll() is not None:
            raise Skip("dockerd exited at start")
        yield f"unix://{sock}"
    finally:
        _stop(proc)
        shutil.rmtree(work, ignore_errors=True)


def _tiny_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"readystack bench\n"
        info = tarfile.TarInfo("bench.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _config(folder: str, content: dict[str, object]) -> str:
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as fh:
        json.dump(content, fh)
    return folder


# The floors' helpers: no lookup, the same answer. No json: the server is a literal host:port.
_ANSWER = (
    """sys.stdout.write('{"ServerURL":"%s","Username":"alice","Secret":"bench-a"}' """
    "% sys.stdin.read().strip())\n"
)
FLOORS = {
    # pip's console-script wrapper, as it starts `docker-credential-readystack`
    "console floor": ("rsconsolefloor", "", "import re\nimport sys\n"
                      "sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"),
    "bare floor": ("rsbarefloor", " -IS", "import sys\n"),  # one shebang word
}  # fmt: skip


def _floor_helpers(folder: str, python: str) -> None:
    """The floors' helpers as docker-credential-NAME scripts in ``folder``."""
    os.makedirs(folder, exist_ok=True)
    for name, flags, head in FLOORS.values():
        path = os.path.join(folder, f"docker-credential-{name}")
        with open(path, "w") as fh:
            fh.write(f"#!{python}{flags}\n{head}{_ANSWER}")
        os.chmod(path, 0o755)


def _run(args: list[str], env: dict[str, str], cwd: str, stdin: bytes = b"") -> float:
    """Run one command; its wall time in ms; Skip when it fails."""
    started = time.perf_counter()
    proc = subprocess.run(args, input=stdin, env=env, cwd=cwd, capture_output=True, timeout=300)
    took = (time.perf_counter() - started) * 1000
    if proc.returncode != 0:
        raise Skip(f"{' '.join(args[:3])} failed: {proc.stderr.decode(errors='replace')[-300:]}")
    return took


def measure(script: str, base_env: dict[str, str], pairs: int, warmup: int = 1) -> dict | None:
    """Paired pulls (helper, plaintext), their ratio, and the config runs of one pull."""
    try:
        return _measure(script, base_env, pairs, warmup)
    except Skip as exc:
        log(f"compose pull: skipped ({exc})")
        return None


def _measure(script: str, base_env: dict[str, str], pairs: int, warmup: int) -> dict:
    docker = _tool("docker")
    tmp = tempfile.mkdtemp(prefix="rsbench-compose-")
    try:
        with _registry(tmp) as host, _dockerd() as daemon:
            env = {**base_env, "DOCKER_HOST": daemon, "HOME": tmp}
            floors = os.path.join(tmp, "floors")
            _floor_helpers(floors, os.path.join(os.path.dirname(script), "python"))
            env["PATH"] = os.pathsep.join((os.path.dirname(script), floors, env.get("PATH", "")))
            plain = _config(
                os.path.join(tmp, "plain"),
                {"auths": {host: {"auth": base64.b64encode(b"alice:bench-a").decode()}}},
            )
            helper = _config(os.path.join(tmp, "helper"), {"credHelpers": {host: "readystack"}})
            db = os.path.join(tmp, "registries.db")
            url = f"http://{host}"
            row_env = {**env, "READYSTACK_DB": db}
            for name, user, extra in (("Company", "alice", ["--pattern", "team/*"]),
                                      ("Default", "bob", ["--default"])):  # fmt: skip
                args = [script, "registry", "add", name, "--url", url, "--username", user]
                _run([*args, "--password-stdin", *extra], row_env, tmp, USERS[user].encode())
            plain_env = {**env, "DOCKER_CONFIG": plain}
            if subprocess.run([docker, "compose", "version"], env=plain_env,
                              capture_output=True).returncode != 0:  # fmt: skip
                raise Skip("docker compose v2 is not installed as a CLI plugin")
            _run([docker, "import", "-", "bench/base:1"], plain_env, tmp, _tiny_tar())
            services = {}
            for i in range(IMAGES):
                repo = f"team/app{i}" if i % 2 else f"other/db{i}"
                image = f"{host}/{repo}:1"
                _run([docker, "tag", "bench/base:1", image], plain_env, tmp)
                _run([docker, "push", image], plain_env, tmp)
                services[f"s{i}"] = {"image": image}
            project = os.path.join(tmp, "project")
            os.makedirs(project)
            with open(os.path.join(project, "compose.yaml"), "w") as fh:
                json.dump({"services": services}, fh)
            helper_env = {**env, "DOCKER_CONFIG": helper, "READYSTACK_DB": db}
            pull = [docker, "compose", "pull", "--quiet"]
            off_env = {**helper_env, "READYSTACK_IMAGE_HINT": "0"}
            order = [("helper", helper_env), ("plain", plain_env), ("hint off", off_env)]
            for case, (name, _, _) in FLOORS.items():
                folder = _config(os.path.join(tmp, name), {"credHelpers": {host: name}})
                order.append((case, {**env, "DOCKER_CONFIG": folder}))
            samples = _alternate(order, pull, project, pairs, warmup)
            logfile = os.path.join(tmp, "helper.log")
            _run(pull, {**helper_env, "READYSTACK_LOG_FILE": logfile}, project)
            with open(logfile) as fh:
                result = _summary(samples, fh.read(), pairs)
            return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _alternate(
    order: list[tuple[str, dict[str, str]]], pull: list[str], project: str, pairs: int, warmup: int
) -> dict[str, list[float]]:
    """Each case's pull times, the cases run in turn, forwards then backwards, after warm-ups."""
    samples: dict[str, list[float]] = {name: [] for name, _ in order}
    for i in range(warmup + pairs):
        for name, run_env in order if i % 2 else order[::-1]:
            took = _run(pull, run_env, project)
            if i >= warmup:
                samples[name].append(took)
    return samples


def _summary(samples: dict[str, list[float]], log_text: str, pairs: int) -> dict:
    """The medians and paired ratios to plaintext, and what one pull's helpers logged; logged."""
    ratios = {
        name: med([c / p for c, p in zip(samples[name], samples["plain"], strict=True)])
        for name in samples
    }
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "pairs": pairs,
        "helper_ms": med(samples["helper"]),
        "plain_ms": med(samples["plain"]),
        "ratio": ratios["helper"],
        # the same helpers with the hint off (host ranking: bob), to tell the cost of
        # starting 8 helpers from that of the config run
        "hint_off_ms": med(samples["hint off"]),
        "hint_off_ratio": ratios["hint off"],
        # what 8 Python helpers that look nothing up cost (see FLOORS)
        "floors": {name: {"ms": med(samples[name]), "ratio": ratios[name]} for name in FLOORS},
        "config_runs": log_text.count(CONFIG_RUN),
        "gets": log_text.count("get: server"),
        "answered_by": sorted({line.split("for user ")[-1] for line in
                               log_text.splitlines() if "for user " in line}),
    }  # fmt: skip
    log(
        f"compose pull of {IMAGES} present images: helper {result['helper_ms']:.0f} ms, "
        f"plaintext auths {result['plain_ms']:.0f} ms, hint off "
        f"{result['hint_off_ms']:.0f} ms, ratio {result['ratio']:.2f}x "
        f"(budget <= 1.25x; hint off {result['hint_off_ratio']:.2f}x, "
        + ", ".join(f"{k} {v['ratio']:.2f}x" for k, v in result["floors"].items())
        + f"); {result['gets']} gets started {result['config_runs']} "
        f"config run(s) (budget <= 1); answered as {', '.join(result['answered_by'])}"
    )
    return result


def write(out: str, result: dict | None) -> None:
    """compose.json and compose.md next to the main report (nothing when it was skipped)."""
    if result is None:
        return
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "compose.json"), "w") as fh:
        json.dump(result, fh, indent=1)
    with open(os.path.join(out, "compose.md"), "w") as fh:
        fh.write(
            f"# docker compose pull of {IMAGES} images already present\n\n"
            f"{result['date']}, {result['pairs']} alternating pairs after a warm-up, load "
            f"average {result['loadavg']} (2 cores: the ratios are noisy under load).\n\n"
            "| case | median ms | paired ratio to plaintext | budget |\n|---|---|---|---|\n"
            f"| helper answering (image hint, compose v2) | {result['helper_ms']:.0f} "
            f"| {result['ratio']:.2f}x | <= 1.25x |\n"
            f"| plaintext `auths` | {result['plain_ms']:.0f} | 1 | |\n"
            f"| helper answering, image hint off | {result['hint_off_ms']:.0f} "
            f"| {result['hint_off_ratio']:.2f}x | |\n"
            + "".join(
                f"| {name}: a helper that only prints the answer | {floor['ms']:.0f} "
                f"| {floor['ratio']:.2f}x | |\n"
                for name, floor in result["floors"].items()
            )
            + f"| compose `config` runs for {result['gets']} gets | {result['config_runs']} "
            "| | <= 1 |\n"
        )
