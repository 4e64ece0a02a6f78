"""store/conventions.py's facts, and the texts that show them in the order people have seen."""

from __future__ import annotations

from readystack.helper.manage import admin
from readystack.store import conventions


def test_the_origins_and_secret_stores_are_the_side_tables_values() -> None:
    assert (conventions.LOGIN, conventions.ADMIN) == ("login", "admin")
    assert conventions.SECRET_STORES == ("database", "keyring")
    assert conventions.KEYRING_PREFIX == "keyring:"


def test_the_options_list_the_secret_stores_as_before() -> None:
    parser = admin.parser()
    add = parser.parse_args(["registry", "add", "x", "--url", "u"]).verb_parser
    move = parser.parse_args(["registry", "move-secrets", "--to", "database"]).verb_parser
    assert "--secret-store {database,keyring}" in " ".join(add.format_usage().split())
    assert "--to {keyring,database}" in " ".join(move.format_usage().split())
