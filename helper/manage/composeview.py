"""explain --compose: what each image of a compose v2 project gets, per host, and how to split."""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Mapping

from readystack.store import registries
from readystack.store.diag import printable
from readystack.store.errors import TargetError
from readystack.store.jsonread import BadJSON, read_json
from readystack.store.verberrors import AdminError

from ..lookup import target as targets
from ..lookup.compose import TIMEOUT
from ..lookup.resolver import DEFAULT_ROW, PATTERN, agreed, choose, choose_how, repository_matters
from .adminlib import db_path, table_opener

Image = tuple[str, str, targets.Target]  # service, image as written, the image read


def explain_compose(ns: argparse.Namespace) -> int:
    """explain --compose [PATH]: each service's row; per host what compose's calls get."""
    where = ns.compose or "."
    services = _project(where, ns.environ)
    pull = "docker compose pull" if os.path.isdir(where) else f"docker compose -f {where} pull"
    path, how = db_path(ns)
    opener = table_opener(path, how)
    by_host: dict[str, list[Image]] = {}
    _say(f"compose project {ns.compose or '.'}: {len(services)} service(s)")
    for service, image in sorted(services.items()):
        if not image:
            _say(f"  {service}: no image (build only): nothing to pull")
            continue
        try:
            read = targets.image(image)
        except TargetError as exc:
            _say(f"  {service}: {image!r} is not a valid image reference ({exc})")
            continue
        by_host.setdefault(read.host, []).append((service, image, read))
    for host, images in by_host.items():
        db = opener(path)
        try:
            rows = db.rows_for_host(host) if db is not None else []
        finally:
            if db is not None:
                db.close()
        _host(host, images, rows, pull)
    return 0


def _project(where: str, environ: Mapping[str, str]) -> dict[str, str | None]:
    """The project's services and images, from `docker compose config --format json`."""
    options: list[str] = []
    folder = where
    if os.path.isfile(where):
        options = ["-f", os.path.abspath(where)]
        folder = os.path.dirname(os.path.abspath(where))
    elif not os.path.isdir(where):
        raise AdminError(f"{where}: no such compose project folder or file")
    args = ["docker", "compose", *options, "config", "--format", "json"]
    try:
        proc = subprocess.run(
            args, cwd=folder, env=dict(environ), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=TIMEOUT * 6,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AdminError(f"docker compose config did not run: {exc}") from None
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise AdminError(f"docker compose config failed (exit {proc.returncode}): {first}")
    try:
        project = read_json(proc.stdout)
        return {n: (s or {}).get("image") for n, s in project["services"].items()}
    except (BadJSON, KeyError, TypeError, AttributeError):
        raise AdminError("docker compose config printed no project") from None


def _host(host: str, images: list[Image], rows: list[registries.Row], pull: str) -> None:
    """Print each image's row on ``host``, what compose's calls get, and the split if needed."""
    _say(f"host {host}: {len(images)} image(s)")
    routes = []
    for service, image, read in images:
        row, how = choose_how(rows, read)
        routes.append((service, row, how))
        won = "pattern" if how == PATTERN else how
        _say(f"  {service}: {image} -> {f'row {row.name!r} ({won})' if row else 'no row'}")
    server = targets.Target(host, targets.SERVER, host)
    ranked = choose(rows, server)
    ranking = f"row {ranked.name!r}" if ranked else "no row (the Docker config files decide)"
    if not repository_matters(rows):
        _say(f"  compose's calls get {ranking}: every row answers this host alike")
        return
    question = agreed(rows, [read for _, _, read in images], lambda _: None)
    if question is not None:
        row = choose(rows, question)
        name = repr(row.name) if row else "none"
        _say(
            f"  compose's calls get row {name} (the image hint, compose v2 on Linux): "
            "the images agree on it"
        )
        return
    _say(
        f"  compose's calls get {ranking} (the host ranking): these images need different "
        "rows, and compose asks only for the host, once per image, all at once"
    )
    _say("  pull them in groups that agree:")
    for group in _groups(routes):
        _say(f"    {pull} {' '.join(group)}")


def _groups(routes: list[tuple[str, registries.Row | None, str]]) -> list[list[str]]:
    """Services in groups that agree: one per row, the default row's joining a pattern row's."""
    groups: dict[str, list[str]] = {}
    by_pattern: list[str] = []  # row ids whose services all won by a pattern
    defaults: list[str] = []
    for service, row, how in routes:
        if row is not None and how == DEFAULT_ROW:
            defaults.append(service)
            continue
        key = row.id if row else ""
        if key not in groups and how == PATTERN:
            by_pattern.append(key)
        groups.setdefault(key, []).append(service)
    if defaults:
        # One pattern row with the rest on the default row agrees (the image hint's rule).
        groups.setdefault(by_pattern[0] if by_pattern else "default", []).extend(defaults)
    return [sorted(group) for group in groups.values()]


def _say(line: str) -> None:
    """Print one line, escaped as `explain` escapes what rows and compose files say."""
    print(printable(line))
