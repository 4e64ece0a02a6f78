"""Docker's own Go helper as the peer of `get`: the same lookup, paired in one run.

DESIGN.md "Budgets": the binary's `get` of a row whose secret is in the database (1,000 rows,
by host, as in the main cases) takes at most 1.2x (goal 1.0x: no slower than Docker's own
helper) Debian's Go `docker-credential-secretservice get` reading its entry from gnome-keyring.
The console script's `get` is paired with it too, and the Go helper with the bare floor, for
scale. The keyring, its bus and the Go helper's entry come from bench/keyringpeer.py, which the
keyring section (`get` of a keyring-held secret) shares.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from . import keyringpeer, log
from .cases import Commands
from .timing import Cmd, Pair, med

TARGET, GOAL = 1.2, 1.0
# (key, label, which `get`) paired against the Go helper; the binary's only when it is built.
CASES = (
    ("binary", "binary get 1,000 (host), secret in the database", "bin_get"),
    ("source", "source get 1,000 (host), secret in the database", "src_get"),
)


def _fresh(cmd: Cmd, key: str, label: str) -> Cmd:
    """A copy of ``cmd`` with its own samples (the main cases keep theirs)."""
    return Cmd(key, label, cmd.argv, cmd.env, cmd.stdin, cmd.expect, cmd.kind)


def measure(c: Commands, pairs: int, warmup: int) -> dict:
    """Start the peer, then time the Go helper against the floor and each `get` against it."""
    why = keyringpeer.available()
    if why:
        log(f"\nget vs Docker's Go helper: not measured ({why})")
        return {"skipped": why}
    log("\nget vs Go docker-credential-secretservice get (gnome-keyring, one entry):")
    ws = c.ws
    work = os.path.join(ws.tmp, "peer")
    os.makedirs(work)
    found: dict = {"pairs": {}}
    with keyringpeer.started(work, ws.env_for(None)) as peer:
        go = peer.go_get(ws.stdin_file("peer-host.txt", keyringpeer.HOST))
        compared = [("go", Pair(go, _fresh(c.bare, "peer-bare", c.bare.label)))]
        for key, label, which in CASES:
            get = getattr(c, which).get(("host", 1000))
            if get is not None:
                compared.append((key, Pair(_fresh(get, f"peer-{key}-get", label), go)))
        for key, pair in compared:
            for cmd in (pair.case, pair.base):
                if not cmd.validate(ws.tmp):
                    log(f"  warning: {cmd.label}: {cmd.check}")
            pair.run(pairs, warmup)
            log(pair.line())
            found["pairs"][key] = _summary(pair)
    found["go_ms"] = med(go.samples)
    return found


def _summary(pair: Pair) -> dict:
    return {
        "case": pair.case.label,
        "base": pair.base.label,
        "case_ms": pair.a,
        "base_ms": pair.b,
        "ratios": pair.ratios,
        "ratio": pair.ratio,
        "case_cpu_ms": pair.a_cpu,
        "base_cpu_ms": pair.b_cpu,
        "cpu_ratio": pair.cpu_ratio,
        "failures": pair.failures,
    }


def add_rows(p: dict | None, add: Callable[..., None], verdict: Callable[..., str]) -> None:
    """The summary rows of this section (``add`` takes bench/report.py's Row fields)."""
    go = f"Go {keyringpeer.GO_HELPER} get (gnome-keyring)"
    if not p or "skipped" in p:
        add(go, float("nan"), f"not measured ({(p or {}).get('skipped', 'not run')})")
        return
    for key, label, _which in (("go", go, ""), *CASES):
        s = p["pairs"].get(key)
        if s is None:
            continue
        judged = key == "binary"
        add(
            f"{label} vs Go" if key != "go" else label,
            med(s["case_ms"]),
            f"{s['ratio']:.2f}× " + ("bare floor" if key == "go" else "Go `get`"),
            cpu=f"{med(s['case_cpu_ms']):.2f} ms, {s['cpu_ratio']:.2f}×",
            target=f"≤ {TARGET:g}× (goal {GOAL:g}×)" if judged else "",
            result=verdict(s["ratio"], TARGET, GOAL) if judged else "",
        )
