"""`registry test`: stored credentials checked against their registries, all rows at once."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Mapping

from readystack.store import hosts, registries
from readystack.store.conventions import NAME
from readystack.store.diag import printable
from readystack.store.errors import HostError
from readystack.store.verberrors import AdminError, UsageError

from ..lookup.reference import InvalidReference, parse_image
from ..lookup.resolver import secret_of
from ..online import regcheck
from .adminlib import all_rows, missing_row

# Rows are checked in parallel, up to this many at a time: N timeouts cost about one timeout.
MAX_PARALLEL = 32
# Past the timeout, a check that has not ended (a name lookup can outlive socket timeouts) is
# reported unreachable; this is the slack given to checks that are just finishing.
GRACE = 1.0


class Result:
    """One row's outcome: exactly the four keys of the --json output."""

    __slots__ = ("name", "host", "status", "detail")

    def __init__(self, name: str, host: str, status: str, detail: str) -> None:
        self.name = name
        self.host = host
        self.status = status
        self.detail = detail

    def as_dict(self) -> dict[str, str]:
        """The --json object."""
        return {"name": self.name, "host": self.host, "status": self.status, "detail": self.detail}


def parse_image_option(text: str) -> regcheck.Image:
    """`--image REF` as Docker reads an image reference (tag `latest` when none)."""
    try:
        domain, path, tag, digest = parse_image(text.strip())
        host = hosts.check_host(domain)
    except (InvalidReference, HostError) as exc:
        raise UsageError(f"--image {text!r} is not an image reference: {exc}") from None
    return regcheck.Image(host, path, digest or tag or "latest")


def select_rows(
    rows: list[registries.Row], names: list[str], image: regcheck.Image | None
) -> list[registries.Row]:
    """The rows NAMEs pick (all with credentials when none), on the image's host with --image."""
    if names:
        by_name = {row.name.casefold(): row for row in rows}
        chosen = []
        for name in names:
            row = by_name.get(name.casefold())
            if row is None:
                raise AdminError(missing_row(name, [r.name for r in rows]))
            if image is not None and row.host != image.host:
                raise UsageError(
                    f"registry {row.name!r} is on {row.host}, not on {image.host} "
                    f"where --image {image} lives"
                )
            chosen.append(row)
        return chosen
    return [
        row
        for row in rows
        if row.has_credentials
        and not row.is_oauth_key
        and (image is None or row.host == image.host)
    ]


def check_rows(
    rows: list[registries.Row],
    image: regcheck.Image | None,
    environ: Mapping[str, str],
    timeout: float,
) -> list[Result]:
    """Check every row concurrently; a check still running after the timeout is unreachable."""
    results: list[Result | None] = [None] * len(rows)
    jobs = []
    for index, row in enumerate(rows):
        secret = secret_of(row) if row.has_credentials else None
        host = row.host or ""
        if secret is None:
            results[index] = Result(row.name, host, regcheck.ERROR, "no credentials stored")
            continue
        jobs.append((index, row, secret))

    slots = threading.BoundedSemaphore(MAX_PARALLEL)

    def work(index: int, row: registries.Row, secret: str) -> None:
        with slots:
            status, detail = regcheck.check(
                row.url, row.username or "", secret, image, environ, timeout
            )
            results[index] = Result(row.name, row.host or "", status, detail)

    threads = []
    for index, row, secret in jobs:
        # Daemon threads: a check stuck past the deadline must not keep the process alive.
        thread = threading.Thread(
            target=work, args=(index, row, secret), daemon=True, name=f"check-{index}"
        )
        thread.start()
        threads.append(thread)
    batches = -(-len(threads) // MAX_PARALLEL)  # ceiling division; 0 when there is no thread
    deadline = time.monotonic() + batches * timeout + GRACE
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for index, row in enumerate(rows):
        if results[index] is None:
            results[index] = Result(
                row.name, row.host or "", regcheck.UNREACHABLE, f"no answer within {timeout:g} s"
            )
    return [r for r in results if r is not None]


def print_results(results: list[Result], as_json: bool) -> None:
    """One line per row (name, host, status, detail), or a JSON array."""
    if as_json:
        sys.stdout.write(json.dumps([r.as_dict() for r in results], indent=2) + "\n")
        return
    # Names come from rows, details from servers: escaped as `registry list` escapes them.
    shown = [(printable(r.name), printable(r.host), r.status, printable(r.detail)) for r in results]
    width = [max((len(row[key]) for row in shown), default=0) for key in (0, 1)]
    status_width = max(len(s) for s in regcheck.STATUSES)
    for name, host, status, detail in shown:
        sys.stdout.write(
            f"{name:{width[0]}}  {host:{width[1]}}  {status:{status_width}}  {detail}\n"
        )


def run(ns: argparse.Namespace) -> int:
    """registry test [NAME…] [--image REF] [--timeout S] [--json]; exit 0 iff every row is ok."""
    # A UsageError ends the verb with exit status 2: cli says it, from store/errors.py's table.
    if not ns.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    image = parse_image_option(ns.image) if ns.image else None
    chosen = select_rows(all_rows(ns), ns.names, image)
    if not chosen:
        where = f" on {image.host}" if image else ""
        sys.stderr.write(f"{NAME}: no registry row with credentials{where} to test\n")
        if ns.json:
            sys.stdout.write("[]\n")
        return 1
    results = check_rows(chosen, image, ns.environ, ns.timeout)
    print_results(results, ns.json)
    return 0 if all(r.status == regcheck.OK for r in results) else 1
