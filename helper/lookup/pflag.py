"""Command lines read as spf13/pflag reads them, for the clients whose argv the image hint reads."""

from __future__ import annotations

from readystack.store.errors import Internal

# The rules are those of spf13/pflag v1.0.6 (parseArgs, parseLongArg, parseSingleShortArg),
# which the docker CLI, compose v2, skopeo, podman and buildah all parse their argv with. Only
# boolean flags have a no-option default in the tables read here, so a bool never takes the
# next word and every other flag always does, except the few with a no-option default
# (Flags.optional).

ANY = 1 << 30
# strconv.ParseBool, which pflag's bool flags use.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
# Flags after which a command never reaches a registry for its image: no hint.
STOPPERS = frozenset({"help", "version"})


class Uncertain(Internal):
    """The command line is one the client rejects or this parser cannot read with certainty."""


class Flags:
    """One command's flag set: which long names take a value, which are booleans, the letters."""

    __slots__ = ("values", "bools", "shorts", "interspersed", "args", "stoppers", "optional")

    def __init__(
        self,
        values: frozenset[str],
        bools: frozenset[str],
        shorts: dict[str, str],
        interspersed: bool,
        args: tuple[int, int] = (0, ANY),
        stoppers: frozenset[str] = STOPPERS,
        optional: frozenset[str] = frozenset(),
    ) -> None:
        self.values = values
        self.bools = bools
        self.shorts = shorts
        self.interspersed = interspersed
        self.args = args  # how many operands the command accepts (cobra's Args), min and max
        self.stoppers = stoppers
        # Value flags with a no-option default (`--pull` alone, or `--pull=always`): only the
        # `=` form gives them a value, so they never take the next word.
        self.optional = optional

    def merged(self, other: Flags) -> Flags:
        """This set with ``other``'s flags added (cobra merges inherited persistent flags)."""
        return Flags(
            self.values | other.values,
            self.bools | other.bools,
            {**other.shorts, **self.shorts},
            self.interspersed,
            self.args,
            self.stoppers | other.stoppers,
            self.optional | other.optional,
        )


def table(text: str) -> frozenset[str]:
    """A frozenset of the flag names written in ``text``, separated by white space."""
    return frozenset(text.split())


def letters(text: str) -> dict[str, str]:
    """Short letters written ``a:attach e:env``, as a dict."""
    return dict(pair.split(":", 1) for pair in text.split())


def parse(args: list[str], flags: Flags) -> list[str]:
    """pflag's parseArgs over ``args``: the operands, or Uncertain.

    Without interspersing, the first operand ends the options: it and every word after it come
    back as operands, whatever they look like.
    """
    operands: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if len(word) < 2 or word[0] != "-":
            if not flags.interspersed:
                return operands + [word] + args[i:]
            operands.append(word)
        elif word == "--":
            return operands + args[i:]
        elif word[1] == "-":
            i = _long(word, args, i, flags)
        else:
            i = _shorts(word[1:], args, i, flags)
    return operands


def operands(args: list[str], flags: Flags) -> list[str]:
    """parse(), then the command's operand count checked (cobra's Args)."""
    found = parse(args, flags)
    low, high = flags.args
    if not low <= len(found) <= high:
        raise Uncertain()
    return found


def _long(word: str, args: list[str], i: int, flags: Flags) -> int:
    """``--name``, ``--name=value`` or ``--name value``; the index after what it used."""
    name, equals, value = word[2:].partition("=")
    if not name or name[0] == "-":
        raise Uncertain()
    if name in flags.bools:
        _set_bool(name, value if equals else "true", flags)
        return i
    if name in flags.optional:
        return i
    if name not in flags.values:
        raise Uncertain()  # unknown flag: the client fails before asking anything
    if not equals and i >= len(args):
        raise Uncertain()
    return i if equals else i + 1


def _shorts(group: str, args: list[str], i: int, flags: Flags) -> int:
    """A group of short flags (``-it``, ``-ePATH=x``, ``-d=false``); the index after it."""
    while group:
        if group.startswith("test."):
            raise Uncertain()  # pflag silently skips Go test flags
        name = flags.shorts.get(group[0])
        if name is None:
            raise Uncertain()
        inline = group[2:] if len(group) > 2 and group[1] == "=" else None
        if name in flags.bools:
            _set_bool(name, "true" if inline is None else inline, flags)
            group = "" if inline is not None else group[1:]
            continue
        if inline is None and len(group) == 1:
            if i >= len(args):
                raise Uncertain()
            return i + 1  # `-e VALUE`: the next word is the value, whatever it looks like
        return i  # `-ePATH=x`, `-e=PATH=x`: the rest of the word is the value
    return i


def _set_bool(name: str, value: str, flags: Flags) -> None:
    if value in _TRUE:
        if name in flags.stoppers:
            raise Uncertain()
    elif value not in _FALSE:
        raise Uncertain()  # the client refuses `--rm=maybe`
