"""The management verbs' command line: an argparse tree built from the verb table, and dispatch."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping

from readystack.store.conventions import NAME

from .verbs import GROUPS, VERBS, Verb


def main(args: list[str], environ: Mapping[str, str]) -> int:
    """Parse a management verb's arguments and run it with ``environ``."""
    ns, extra = parser().parse_known_args(args)
    if extra:  # reported by the verb's own parser, so its usage line is the one shown
        ns.verb_parser.error(f"unrecognized arguments: {' '.join(extra)}")
    ns.environ = environ
    verb: Verb = ns.verb_entry
    # The module name comes from our own table, never from input.
    module = importlib.import_module(f"readystack.helper.{verb.module}")
    return int(getattr(module, verb.function)(ns) or 0)


def parser() -> argparse.ArgumentParser:
    """The whole command line: one sub-command per verb, grouped by first word."""
    top = argparse.ArgumentParser(prog=NAME, description="Management and debugging verbs.")
    subs = top.add_subparsers(dest="verb", required=True)
    groups: dict[str, argparse._SubParsersAction] = {}
    for verb in VERBS:
        first, _, second = verb.words.partition(" ")
        where = subs
        if second:
            if first not in groups:
                group = subs.add_parser(first, help=GROUPS[first], description=GROUPS[first])
                groups[first] = group.add_subparsers(dest="action", required=True)
            where = groups[first]
        p = where.add_parser(second or first, help=verb.summary, description=verb.summary)
        p.add_argument("--db", metavar="PATH", help="database to use (default: see README)")
        verb.options(p)
        p.set_defaults(verb_entry=verb, verb_parser=p)
    return top
