"""ReadyStackGo's connection string, read as Microsoft.Data.Sqlite reads it."""

from __future__ import annotations

import os

from .verberrors import ConnectionStringError

# SqliteConnectionStringBuilder (dotnet/efcore, src/Microsoft.Data.Sqlite.Core) maps these three
# keywords, compared case-insensitively, to its DataSource; every other keyword is ignored here.
DATA_SOURCE_KEYWORDS = ("data source", "datasource", "filename")


def data_source(text: str) -> str:
    """The database file ``text`` names, as an absolute path (relative to the current folder)."""
    return os.path.abspath(data_source_as_written(text))


def data_source_as_written(text: str) -> str:
    """The database file ``text`` names, as written (maybe relative)."""
    pairs = parse(text)
    value = None
    # The builder assigns the parsed keys in order, so the alias that comes last wins.
    for key, found in pairs.items():
        if key in DATA_SOURCE_KEYWORDS:
            value = found
    if not value:
        raise ConnectionStringError("it names no Data Source")
    if value.lower().startswith("|datadirectory|"):
        raise ConnectionStringError("|DataDirectory| is not supported")
    if value.lower() == ":memory:" or value.lower().startswith("file:"):
        raise ConnectionStringError(f"{value} is not a database file")
    return value


def parse(text: str) -> dict[str, str | None]:
    """Keyword/value pairs as ADO.NET's DbConnectionOptions splits them; keywords lowercased.

    The rules of dotnet/runtime's ``DbConnectionOptions.GetKeyValuePair`` (non-ODBC): pairs are
    separated by ``;``; a keyword ends at the first single ``=`` (``==`` is a literal ``=``) and
    is trimmed; a value is either quoted with ``"`` or ``'`` (the quote doubled inside) or runs
    to the next ``;``, trimmed, and then must not end with a quote; an empty value is None; the
    last pair with a keyword wins.
    """
    pairs: dict[str, str | None] = {}
    i, n = 0, len(text)
    while i < n:
        if text[i] == ";" or text[i].isspace():
            i += 1
            continue
        key, i = _keyword(text, i)
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] in "\"'":
            value, i = _quoted(text, i)
            pairs[key] = value
            continue
        end = text.find(";", i)
        end = n if end < 0 else end
        plain = text[i:end].rstrip()
        if plain[-1:] in ("'", '"'):
            raise ConnectionStringError(f"a value ending in a quote at character {i}")
        pairs[key] = plain or None
        i = end + 1
    return pairs


def _keyword(text: str, start: int) -> tuple[str, int]:
    chars: list[str] = []
    i, n = start, len(text)
    while True:
        if i >= n:
            raise ConnectionStringError(f"a keyword without '=' at character {start}")
        char = text[i]
        if char == "=":
            if text[i + 1 : i + 2] == "=":
                chars.append("=")
                i += 2
                continue
            break
        if not char.isprintable() and not char.isspace():
            raise ConnectionStringError(f"a control character at character {i}")
        chars.append(char)
        i += 1
    key = "".join(chars).rstrip().lower()
    if not key:
        raise ConnectionStringError(f"an empty keyword at character {start}")
    return key, i + 1


def _quoted(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    chars: list[str] = []
    i, n = start + 1, len(text)
    while True:
        if i >= n:
            raise ConnectionStringError(f"an unbalanced quote at character {start}")
        if text[i] == quote:
            if text[i + 1 : i + 2] != quote:
                break
            i += 1
        chars.append(text[i])
        i += 1
    i += 1
    while i < n and text[i].isspace():
        i += 1
    if i < n and text[i] != ";":
        raise ConnectionStringError(f"text after a quoted value at character {i}")
    return "".join(chars), i + 1
