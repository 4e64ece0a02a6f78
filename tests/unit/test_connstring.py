"""ConnectionStrings__ReadyStackGo, parsed as Microsoft.Data.Sqlite's builder parses it."""

from __future__ import annotations

import os

import pytest
from readystack.store import connstring, verberrors


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("Data Source=/app/data/readystackgo.db", "/app/data/readystackgo.db"),
        ("data source = /a.db ;", "/a.db"),
        ("DATASOURCE=/b.db", "/b.db"),
        ("Filename=/c.db;Cache=Shared;Mode=ReadWriteCreate", "/c.db"),
        ("Pooling=False; Data Source='/with;semicolon.db'", "/with;semicolon.db"),
        ('Data Source="/q ""x"" y.db"  ;Foreign Keys=True', '/q "x" y.db'),
        ("Data Source='/it''s.db'", "/it's.db"),
        ("Data Source=/first.db;Filename=/second.db", "/second.db"),
        ("Filename=/x.db;Data Source=/y.db;Filename=/z.db", "/y.db"),  # builder order: first key
        (";; Data Source=/spaced name.db ;;", "/spaced name.db"),
        ("Odd==Key=1;Data Source=/k.db", "/k.db"),
    ],
)
def test_data_source_keywords_any_case_and_quoting(text: str, path: str) -> None:
    assert connstring.data_source(text) == path


def test_a_relative_data_source_is_relative_to_the_current_folder() -> None:
    assert connstring.data_source("Data Source=data/r.db") == os.path.abspath("data/r.db")


def test_keywords_with_doubled_equals_and_empty_values() -> None:
    assert connstring.parse("a==b=1; Empty=;X = 'y'") == {"a=b": "1", "empty": None, "x": "y"}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Mode=ReadOnly", "names no Data Source"),
        ("Data Source=", "names no Data Source"),
        ("Data Source=:memory:", "not a database file"),
        ("Data Source=|DataDirectory|/r.db", "|DataDirectory|"),
        ("Data Source='/unbalanced.db", "unbalanced quote"),
        ("Data Source='/a.db' trailing", "text after a quoted value"),
        ("Data Source=/a.db'", "ending in a quote"),
        ("just text", "without '='"),
        ("=value", "empty keyword"),
    ],
)
def test_unusable_connection_strings_say_why(text: str, why: str) -> None:
    with pytest.raises(verberrors.ConnectionStringError, match=why.replace("|", r"\|")):
        connstring.data_source(text)
