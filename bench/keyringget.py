"""`get` with the secret in the OS keyring against Docker's Go helper on the same Secret Service.

Issue 23's budget: a secret in the keyring is found in at most 2x (stretch 1.5x) the time of
Debian's Go `docker-credential-secretservice get`, through the console script and through the
binary, paired in one run; beside them the same row with its secret in the database. One
gnome-keyring (bench/keyringpeer.py) holds the Go helper's entry and ours for the same host,
user and secret, so both programs read one item each from the same service. The rows' database
is the 1,000-row one plus that row, as in the main `get` cases.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

from . import keyringpeer, log, probes
from .databases import Workspace
from .install import Setup
from .timing import Cmd, Pair, med

TARGET, STRETCH = 2.0, 1.5
# (key, label) of each case timed against the Go helper; the binary's only when it is built.
CASES = (
    ("source-keyring", "source get, secret in the keyring"),
    ("binary-keyring", "binary get, secret in the keyring"),
    ("source-database", "source get, secret in the database"),
    ("binary-database", "binary get, secret in the database"),
)


def _database(setup: Setup, ws: Workspace, env: dict[str, str], store: str) -> str:
    """A copy of the 1,000-row database plus the peer's row, its secret in ``store``."""
    path = os.path.join(ws.tmp, f"keyring-{store}.db")
    shutil.copy(ws.dbs[1000], path)
    subprocess.run(
        [setup.script, "registry", "add", "peer", "--url", f"https://{keyringpeer.HOST}"]
        + ["--username", keyringpeer.USER, "--password-stdin", "--secret-store", store],
        input=keyringpeer.SECRET + "\n",
        text=True,
        env={**env, "READYSTACK_DB": path},
        capture_output=True,
        check=True,
        timeout=60,
    )
    return path


def _import_profile(setup: Setup, env: dict[str, str], stdin: str) -> dict:
    """`-X importtime` of the console `get`: module count, top-level cumulative ms, keyring?

    jeepney's low_level and auth run outside the import system (store/secretservice.py's
    _jeepney), so their own bodies are not in this profile (their imports are); the
    instruction counts include everything.
    """
    with open(stdin, "rb") as fh:
        proc = subprocess.run(
            [setup.py, "-X", "importtime", setup.script, "get"],
            stdin=fh,
            env=env,
            capture_output=True,
            timeout=60,
        )
    names, top_us = [], 0
    for line in proc.stderr.decode(errors="replace").splitlines():
        if line.startswith("import time:") and "|" in line and "[us]" not in line:
            _self, cumulative, name = line.split(":", 1)[1].split("|")
            names.append(name.strip())
            if not name.startswith("  "):  # one space: imported at top level
                top_us += int(cumulative)
    keyring = sorted({n for n in names if n.split(".")[0] in ("keyring", "secretstorage")})
    return {"modules": len(names), "ms": top_us / 1000, "keyring_modules": keyring[:5]}


def measure(setup: Setup, ws: Workspace, pairs: int, warmup: int, count: bool = True) -> dict:
    """Start the peer, store the row both ways, time every case against the Go helper.

    ``count``: also each case's instructions (valgrind callgrind, when installed), which load
    does not change.
    """
    why = keyringpeer.available()
    if why:
        log(f"\nkeyring get vs the Go helper: not measured ({why})")
        return {"skipped": why}
    log("\nkeyring get vs Go docker-credential-secretservice get (gnome-keyring, one entry):")
    try:
        return _measure(setup, ws, pairs, warmup, count)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        # A benchmark reports; it never fails the run for a peer that would not start.
        log(f"  not measured: {exc}")
        return {"skipped": str(exc)[:200]}


def _measure(setup: Setup, ws: Workspace, pairs: int, warmup: int, count: bool) -> dict:
    valgrind = shutil.which("valgrind") if count else None
    work = os.path.join(ws.tmp, "keyring")
    os.makedirs(work)
    with keyringpeer.started(work, ws.env_for(None)) as peer:
        stdin = ws.stdin_file("keyring-host.txt", keyringpeer.HOST)
        go = peer.go_get(stdin)
        dbs = {store: _database(setup, ws, peer.env, store) for store in ("keyring", "database")}
        programs = {"source": setup.script, "binary": setup.exe}
        found: dict = {"pairs": {}}
        for key, label in CASES:
            program, store = key.split("-")
            if not programs[program]:
                continue
            cmd = Cmd(
                f"{key}-get",
                label,
                [programs[program], "get"],
                {**peer.env, "READYSTACK_DB": dbs[store]},
                stdin=stdin,
                expect=f'"{keyringpeer.SECRET}"',
                kind=program,
            )
            if not (cmd.validate(ws.tmp) and go.validate(ws.tmp)):
                log(f"  warning: {label}: {cmd.check or go.check}")
            pair = Pair(cmd, go)
            pair.run(pairs, warmup)
            log(pair.line())
            found["pairs"][key] = _summary(pair)
            if valgrind:
                found["pairs"][key]["instructions_millions"] = probes.instructions(cmd, valgrind)
        found["go_ms"] = med(go.samples)
        env = {**peer.env, "READYSTACK_DB": dbs["keyring"]}
        found["imports"] = _import_profile(setup, env, stdin)
    log(f"  -X importtime of the keyring get: {found['imports']}")
    return found


def _summary(pair: Pair) -> dict:
    return {
        "case": pair.case.label,
        "case_ms": pair.a,
        "go_ms": pair.b,
        "ratios": pair.ratios,
        "ratio": pair.ratio,
        "case_cpu_ms": pair.a_cpu,
        "go_cpu_ms": pair.b_cpu,
        "cpu_ratio": pair.cpu_ratio,
        "failures": pair.failures,
    }


def add_rows(k: dict | None, add: Callable[..., None], verdict: Callable[..., str]) -> None:
    """The summary rows of this section (``add`` takes bench/report.py's Row fields)."""
    go = f"Go {keyringpeer.GO_HELPER} get (gnome-keyring)"
    if not k or "skipped" in k:
        add(go, float("nan"), f"not measured ({(k or {}).get('skipped', 'not run')})")
        return
    add(go, k["go_ms"], "1.00× Go")
    for key, label in CASES:
        p = k["pairs"].get(key)
        if p is None:
            continue
        judged = key.endswith("keyring")
        cpu = f"{med(p['case_cpu_ms']):.2f} ms, {p['cpu_ratio']:.2f}×"
        if p.get("instructions_millions", float("nan")) == p.get("instructions_millions"):
            cpu += f", {p['instructions_millions']:.0f} M instructions"
        add(
            f"{label} vs Go",
            med(p["case_ms"]),
            f"{p['ratio']:.2f}× Go `get`",
            cpu=cpu,
            target=f"≤ {TARGET:g}× (stretch {STRETCH:g}×)" if judged else "",
            result=_result(p, judged, verdict),
        )
    imports = k["imports"]
    add(
        "-X importtime of source get, secret in the keyring",
        imports["ms"],
        f"{imports['modules']} modules; keyring: {', '.join(imports['keyring_modules']) or 'none'}",
        target="no keyring",
        result="PASS" if not imports["keyring_modules"] else "FAIL",
    )


def _result(p: dict, judged: bool, verdict: Callable[..., str]) -> str:
    """The verdict on a row: failed runs first (a Secret Service that went away, say)."""
    if p["failures"]:
        return f"FAIL ({p['failures']} failed runs)"
    return verdict(p["ratio"], TARGET, STRETCH) if judged else ""
