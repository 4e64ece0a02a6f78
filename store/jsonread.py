"""The one guarded JSON reader for what comes from outside: stdin, files, other programs."""

from __future__ import annotations

from .errors import Internal

NESTED = "nested too deeply"


# Beside the parser that raises it, as json.JSONDecodeError is: a lookup of a database row reads
# no JSON, so it never builds this class (tests/test_structure.py allows it as an Internal one).
class BadJSON(Internal):
    """Text that is not one JSON value: the decoder's message, or ``nested too deeply``."""

    def __init__(self, message: str, nested: bool = False) -> None:
        super().__init__(message)
        self.nested = nested  # the decoder ran out of stack: the text is no longer its position


def read_json(text: str | bytes, *, first: bool = False) -> object:
    """The JSON value of ``text`` (``first``: its first value only); raises BadJSON, never text."""
    # `first` reads as Go's json.Decoder reads a stream: what follows the first value is ignored.
    import json  # only where JSON is read: `get` of a database row does without it

    try:
        if first:
            return json.JSONDecoder().raw_decode(text)[0]  # type: ignore[arg-type]
        return json.loads(text)
    except RecursionError:
        # The decoder recurses once per nesting level, so a deep enough document (`[` * 10**5)
        # exhausts the stack; that is no ValueError, and must not end the process.
        raise BadJSON(NESTED, nested=True) from None
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for bytes
        raise BadJSON(str(exc)) from None
