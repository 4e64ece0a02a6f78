"""resolve and explain: what `get TARGET` answers, and the whole trace of why."""

from __future__ import annotations

import argparse
import sys

from readystack.store.conventions import NAME
from readystack.store.diag import mask

from . import protocol
from . import target as targets
from .adminlib import AdminError, db_path
from .resolver import Trace, resolve


def _target(text: str) -> targets.Target:
    try:
        return targets.parse(text.strip(), bare_name_is_image=True)
    except targets.TargetError as exc:
        raise AdminError(
            f"{text!r} is neither a registry server nor an image reference: {exc}"
        ) from None


def resolve_(ns: argparse.Namespace) -> int:
    """resolve: what `get TARGET` would answer."""
    target = _target(ns.target)
    if target.note:
        sys.stderr.write(f"{NAME}: {target.note}\n")
    path, _ = db_path(ns)
    answer = resolve(target, ns.environ, path)
    if answer is None:
        print(protocol.NOT_FOUND)
        return 1
    secret = answer.secret if ns.show_secret else mask(answer.secret)
    sys.stdout.write(protocol.encode_credentials(ns.target.strip(), answer.username, secret))
    sys.stderr.write(f"{NAME}: answered by {answer.source}\n")
    return 0


def explain(ns: argparse.Namespace) -> int:
    """explain: the whole trace of a resolution, secrets masked."""
    target = _target(ns.target)
    path, how = db_path(ns)
    trace = Trace()
    answer = resolve(target, ns.environ, path, trace)
    print(f"explain {ns.target.strip()!r}")
    print(f"database: {path} ({how})")
    for line in trace.lines:
        print(f"  {line}")
    if answer is None:
        print(
            f"result: not found; `get` answers {protocol.NOT_FOUND!r} and the client "
            "pulls anonymously"
        )
    else:
        print(
            f"result: username {answer.username!r}, secret {mask(answer.secret)}, "
            f"from {answer.source}"
        )
    return 0
