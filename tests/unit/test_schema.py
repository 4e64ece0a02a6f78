"""The one column specification: the row reader, the checks and both DDLs agree with it."""

from __future__ import annotations

from readystack.store import pgsql, registries, schema


def test_maximums_are_readystackgos() -> None:
    limits = {c.name: c.max_len for c in schema.LIMITED}
    assert limits == {
        "Name": 100, "Url": 500, "Username": 255, "Password": 1000, "ImagePatterns": 4000
    }  # fmt: skip


def test_row_takes_the_lookup_cells_by_name() -> None:
    # A distinct value in each LOOKUP cell must land in the Row attribute of that name.
    attribute = {
        "Id": "id",
        "Name": "name",
        "Url": "url",
        "Username": "username",
        "Password": "password",
        "Origin": "origin",
        "SecretStore": "secret_store",
    }
    values = [f"cell-{name}" for name in schema.LOOKUP]
    values[schema.at("IsDefault", schema.LOOKUP)] = 1
    row = schema.Row((*values, True, None, None))
    for name, attr in attribute.items():
        assert getattr(row, attr) == f"cell-{name}"
    assert row.is_default is True
    assert row.patterns == []
    assert len(schema.LOOKUP) == schema.PATTERNS_USABLE == len(attribute) + 1


def test_type_checks_follow_nullability() -> None:
    values = ["x"] * len(schema.LOOKUP)
    values[schema.at("IsDefault", schema.LOOKUP)] = 0
    for name in schema.LOOKUP:
        cells = list(values)
        cells[schema.at(name, schema.LOOKUP)] = None
        column = schema.BY_NAME[name]
        # The side table's cells are NULL for ReadyStackGo's own rows: a LEFT JOIN.
        may_be_null = column.nullable or column in schema.SIDE_COLUMNS
        skipped: list[str] = []
        made = schema.make_row((*cells, True), skipped)
        assert (made is not None) == may_be_null, name
        assert bool(skipped) != may_be_null


def test_both_ddls_come_from_the_spec() -> None:
    assert registries.SQLITE.schema == schema.SQLITE_DDL
    sqlite_table, postgres_table = registries.SQLITE.schema[0], pgsql.POSTGRES.schema[0]
    assert sqlite_table.replace('"IsDefault" INTEGER', '"IsDefault" BOOLEAN') == postgres_table
    for column in schema.COLUMNS:
        assert f'"{column.name}"' in sqlite_table
    assert 'WHERE "IsDefault"' in pgsql.POSTGRES.schema[2]
    assert "[IsDefault] = 1" in registries.SQLITE.schema[2]


def test_limits_sql_names_every_limited_column() -> None:
    sql = schema.within_limits()
    for column in schema.LIMITED:
        assert f'coalesce(length(r."{column.name}"), 0) <= {column.max_len}' in sql


def test_a_login_secret_is_bounded_by_what_store_reads() -> None:
    from readystack.helper.lookup import protocol

    assert schema.LOGIN_SECRET_MAX == protocol.MAX_INPUT
    assert schema.limit_of("Password", "login") == protocol.MAX_INPUT
    assert schema.limit_of("Password", "admin") == schema.limit_of("Password", None) == 1000
