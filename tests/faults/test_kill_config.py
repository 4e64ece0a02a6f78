"""`configure-docker` killed at any instant: config.json is the old file or the new one."""

from __future__ import annotations

import json
from pathlib import Path

from .harness import drive, environment, launch, run

POINTS = ("after-config-fsync", "after-config-rename")


def test_configure_docker(fast_tmp: Path, kills: int) -> None:
    """Never a mix, never empty; every other key kept."""
    env = environment(fast_tmp)
    for n in (1, 2):
        args = ["registry", "add", f"h{n}", "--url", f"https://h{n}.example", "--username", "u"]
        assert run([*args, "--password-stdin"], env, b"pw\n").returncode == 0
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    config.parent.mkdir()
    original = {"auths": {}, "psFormat": "table {{.ID}}", "credHelpers": {"other.io": "pass"}}
    config.write_text(json.dumps(original, indent="\t") + "\n")
    steps = (["configure-docker", "--registries", "h1.example"], ["configure-docker", "--remove"])
    # The two files the steps make, learnt from unkilled runs: each kill must leave one of them.
    versions = set()
    for args in steps:
        assert run(args, env).returncode == 0
        versions.add(config.read_bytes())
    versions.add(json.dumps(original, indent="\t").encode() + b"\n")
    assert len(versions) >= 2

    def attempt(i: int, point: str | None, delay: float) -> int:
        # Always a step that changes the file, so that every named point is reached.
        return launch(steps[b"h1.example" in config.read_bytes()], env, point, delay, b"")

    def check(i: int, status: int) -> int:
        text = config.read_bytes()
        assert text in versions, text
        data = json.loads(text)
        assert data["psFormat"] == original["psFormat"]
        assert data["credHelpers"]["other.io"] == "pass"
        leftovers = [p.name for p in config.parent.iterdir() if p.name != "config.json"]
        return 3 + (0 if status else int(not leftovers))

    drive("configure-docker", kills, POINTS, attempt, check)
