"""The management verbs' command line: an argparse tree built from the verb table, and dispatch."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping

from readystack.store.conventions import NAME

from .verbs import DB_HELP, GROUPS, PASSWORD_REFUSED, VERBS, Verb, help_lines


def main(args: list[str], environ: Mapping[str, str]) -> int:
    """Parse a management verb's arguments and run it with ``environ``."""
    if args[0] in GROUPS and not _known_action(args):
        return _unknown_action(args)
    # argparse quotes what it cannot place (`ambiguous option: --pass=secret`, `ignored explicit
    # argument 'secret'`): anything that spells a password option goes to --password's refusal.
    args = ["--password" if _password_option(a) else a for a in args]
    ns, extra = parser().parse_known_args(args)
    if "--password" in extra:  # a verb without a password option: refused all the same
        ns.verb_parser.error(PASSWORD_REFUSED)
    if extra:  # reported by the verb's own parser, so its usage line is the one shown
        ns.verb_parser.error(f"unrecognized arguments: {' '.join(extra)}")
    ns.environ = environ
    verb: Verb = ns.verb_entry
    # The module name comes from our own table, never from input.
    module = importlib.import_module(f"readystack.helper.{verb.module}")
    return int(getattr(module, verb.function)(ns) or 0)


def _password_option(arg: str) -> bool:
    """``--password``, an abbreviation of it, or any ``--pas…=VALUE`` (a value never echoed)."""
    name, eq, _ = arg.partition("=")
    if not name.startswith("--pas"):
        return False
    return bool(eq) or ("--password".startswith(name) and name != "--password-stdin")


def _known_action(args: list[str]) -> bool:
    """Whether a group's second word is one of its verbs (or an option argparse answers)."""
    return len(args) > 1 and (args[1].startswith("-") or f"{args[0]} {args[1]}" in _WORDS)


_WORDS = {verb.words for verb in VERBS}


def _unknown_action(args: list[str]) -> int:
    """Stderr, as the top level does it: the verb probably meant, then the group's verbs; exit 2."""
    import difflib
    import sys

    from readystack.store.diag import printable

    group = args[0]
    actions = [w.split(" ", 1)[1] for w in _WORDS if w.startswith(group + " ")]
    if len(args) == 1:
        first = f"{NAME}: {group} needs one of its verbs"
    else:
        close = difflib.get_close_matches(args[1], actions, n=1)
        hint = f"; did you mean {group + ' ' + close[0]!r}?" if close else ""
        first = f"{NAME}: unknown verb {printable(group + ' ' + args[1])!r}{hint}"
    lines = [first, f"{group.capitalize()} verbs:"]
    lines += help_lines(group)
    lines.append(f"{NAME} {group} --help explains each one.")
    sys.stderr.write("\n".join(lines) + "\n")
    return 2


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
        db_help = DB_HELP.get(verb.words, "database to use (default: see README)")
        p.add_argument("--db", metavar="PATH", help=db_help)
        verb.options(p)
        p.set_defaults(verb_entry=verb, verb_parser=p)
    return top
