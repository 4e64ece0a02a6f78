"""Resolution: DESIGN.md's table of examples, row rules, organizations, config-file fallback."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from keyringcontract import LockedKeyring, MemoryKeyring, path_of
from readystack.helper.lookup import actions, resolver
from readystack.helper.lookup import target as targets
from readystack.helper.lookup.patterns import MAX_PATTERNS
from readystack.helper.lookup.resolver import Trace
from readystack.store import errors, paths, registries, secrets

RsgDb = Any  # tests/unit/conftest.py's RsgDb, reached through fixtures

HUB_V1 = "https://index.docker.io/v1/"

# Each scenario: rows as (name, url, patterns, options); username = name.lower().
SCENARIOS: dict[str, list[tuple[str, str, list[str], dict]]] = {
    "AB": [
        ("A", "https://docker.io", ["mycompany/*"], {}),
        ("B", HUB_V1, [], {"default": True}),
    ],
    "CD": [
        ("C", "https://ghcr.io", ["ghcr.io/**"], {}),
        ("D", "https://ghcr.io", ["ghcr.io/acme/api"], {}),
    ],
    "EF": [
        ("E", "http://localhost:5000", ["team/*"], {}),
        ("F", "localhost:5000", [], {}),
    ],
    "G": [("G", "https://registry.example.com", ["quay.io/**"], {})],
    "HI": [
        ("H", "https://docker.io", ["a/*"], {}),
        ("I", "https://docker.io", ["a/**"], {}),
    ],
    "JK": [
        ("J", "https://docker.io", ["team/app-*"], {}),
        ("K", "https://docker.io", ["team/*"], {}),
    ],
    "L": [("L", "https://ghcr.io", ["ghcr.io/acme/api"], {})],
    "M": [("M", "https://myregistry", [], {"login": True})],
}

TABLE = [
    ("A", "AB", "mycompany/app", "a"),
    ("B", "AB", "docker.io/library/nginx", "b"),
    ("B", "AB", "library/redis", "b"),
    ("B", "AB", "team/app", "b"),
    ("B", "AB", HUB_V1, "b"),
    ("B", "AB", "docker.io", "b"),
    ("D", "CD", "ghcr.io/acme/api", "d"),
    ("C", "CD", "ghcr.io/acme/web", "c"),
    ("C", "CD", "ghcr.io/acme/api/sub", "c"),
    ("C", "CD", "ghcr.io", "c"),
    ("E", "EF", "localhost:5000/team/app", "e"),
    ("F", "EF", "localhost:5000/other/app", "f"),
    ("F", "EF", "localhost:5000", "f"),
    ("F", "EF", "http://localhost:5000/v2/", "f"),
    ("G", "G", "quay.io/x/y", None),
    ("H", "HI", "a/b", "h"),
    ("J", "JK", "team/app-1", "j"),
    ("L", "L", "ghcr.io", "l"),
    ("M", "M", "myregistry", "m"),
    ("M", "M", "nginx", None),
]


def build(rsg: RsgDb, scenario: str) -> None:
    for name, url, patterns, options in SCENARIOS[scenario]:
        rsg.add(name, url, patterns=patterns, **options)


def ask(environ: dict[str, str], question: str, trace: Trace | None = None) -> str | None:
    answer = resolver.resolve(targets.parse(question), environ, environ["READYSTACK_DB"], trace)
    return None if answer is None else answer.username


@pytest.mark.usefixtures("no_root_config")
@pytest.mark.parametrize(
    ("row", "scenario", "question", "expected"), TABLE, ids=[f"{t[0]}-{t[2]}" for t in TABLE]
)
def test_each_design_table_question_gets_its_row(
    rsg: RsgDb, environ: dict, row: str, scenario: str, question: str, expected: str | None
) -> None:
    build(rsg, scenario)
    assert ask(environ, question) == expected


@pytest.mark.usefixtures("no_root_config")
@pytest.mark.parametrize(("scenario", "question", "expected"), [t[1:] for t in TABLE])
def test_design_table_through_get(
    rsg: RsgDb, environ: dict, scenario: str, question: str, expected: str | None
) -> None:
    build(rsg, scenario)
    if expected is None:
        with pytest.raises(errors.NotFound):
            actions.get(question.encode() + b"\n", environ)
        return
    answer = json.loads(actions.get(question.encode() + b"\n", environ))
    assert answer == {
        "ServerURL": question,
        "Username": expected,
        "Secret": f"pw-{expected.upper()}",
    }


# ---- which rows answer ----------------------------------------------------------------------


@pytest.mark.usefixtures("no_root_config")
@pytest.mark.parametrize(
    ("username", "password"), [(None, "p"), ("", "p"), ("u", None), ("u", ""), (None, None)]
)
def test_rows_without_username_or_password_never_answer(
    rsg: RsgDb, environ: dict, username: str | None, password: str | None
) -> None:
    rsg.add("X", "https://ghcr.io", username=username, password=password, default=True)
    # `add` replaces "" with a generated value, so write the empty strings directly.
    conn = sqlite3.connect(rsg.path)
    conn.execute('UPDATE "Registries" SET "Username" = ?, "Password" = ?', (username, password))
    conn.commit()
    conn.close()
    assert ask(environ, "ghcr.io") is None
    assert ask(environ, "ghcr.io/acme/api") is None


@pytest.mark.usefixtures("no_root_config")
def test_login_row_with_empty_secret_answers(rsg: RsgDb, environ: dict) -> None:
    rsg.add("ghcr.io", "https://ghcr.io", username="u", password=None, login=True)
    answer = resolver.resolve(targets.parse("ghcr.io"), environ, environ["READYSTACK_DB"])
    assert answer is not None and (answer.username, answer.secret) == ("u", "")


@pytest.mark.usefixtures("no_root_config")
def test_default_row_answers_when_no_pattern_matches(rsg: RsgDb, environ: dict) -> None:
    rsg.add("Team", "https://r.example.com", patterns=["team/*"])
    rsg.add("Fallback", "https://r.example.com", patterns=["other/**"], default=True)
    assert ask(environ, "r.example.com/team/app") == "team"
    assert ask(environ, "r.example.com/nobody/app") == "fallback"
    assert ask(environ, "r.example.com") == "fallback"


@pytest.mark.usefixtures("no_root_config")
def test_default_row_never_leaves_its_host(rsg: RsgDb, environ: dict) -> None:
    rsg.add("Hub", HUB_V1, default=True)
    assert ask(environ, "ghcr.io/acme/api") is None
    assert ask(environ, "ghcr.io") is None


@pytest.mark.usefixtures("no_root_config")
def test_login_row_before_default_and_unpatterned(rsg: RsgDb, environ: dict) -> None:
    rsg.add("Zeta", "https://ghcr.io", default=True)
    rsg.add("Alpha", "https://ghcr.io")
    rsg.add("ghcr.io", "https://ghcr.io", username="me", password="s", login=True)
    assert ask(environ, "ghcr.io") == "me"
    assert ask(environ, "ghcr.io/acme/api") == "me"


@pytest.mark.usefixtures("no_root_config")
def test_ties_broken_by_name_case_insensitively(rsg: RsgDb, environ: dict) -> None:
    rsg.add("beta", "https://ghcr.io")
    rsg.add("Alpha", "https://ghcr.io")
    assert ask(environ, "ghcr.io") == "alpha"


@pytest.mark.usefixtures("no_root_config")
def test_hosts_compare_with_port_and_case(rsg: RsgDb, environ: dict) -> None:
    rsg.add("Plain", "https://R.EXAMPLE.COM")
    rsg.add("Port", "https://r.example.com:5000")
    assert ask(environ, "r.example.com") == "plain"
    assert ask(environ, "R.Example.Com:5000") == "port"
    assert ask(environ, "r.example.com:443") is None


# ---- organizations ----------------------------------------------------------------------------

ORG1 = "11111111-1111-4111-8111-111111111111"
ORG2 = "22222222-2222-4222-8222-222222222222"


@pytest.mark.usefixtures("no_root_config")
def test_organizations_table_first_row_counts(environ: dict, make_rsg: Any) -> None:
    db = make_rsg(Path(environ["READYSTACK_DB"]), organizations=[ORG1, ORG2])
    db.add("Other", "https://ghcr.io", org=ORG2, default=True)
    assert ask(environ, "ghcr.io") is None
    db.add("Mine", "https://ghcr.io", org=ORG1.lower())  # GUID case does not matter
    assert ask(environ, "ghcr.io") == "mine"


@pytest.mark.usefixtures("no_root_config")
def test_without_organizations_table_every_row_counts(rsg: RsgDb, environ: dict) -> None:
    rsg.add("Other", "https://ghcr.io", org=ORG2)
    assert ask(environ, "ghcr.io") == "other"


# ---- malformed ImagePatterns ------------------------------------------------------------------


@pytest.mark.usefixtures("no_root_config")
@pytest.mark.parametrize(
    "patterns", ['["acme/*"', "acme/*", "{}", '{"a": 1}', "null", "42", '["acme/*", 1]', '[["x"]]']
)
def test_malformed_patterns_never_match(rsg: RsgDb, environ: dict, patterns: str) -> None:
    rsg.add("Broken", "https://ghcr.io", patterns=patterns)
    assert ask(environ, "ghcr.io/acme/api") is None  # not host-level for repositories
    trace = Trace()
    ask(environ, "ghcr.io/acme/api", trace)
    assert any("not a JSON array of strings" in line for line in trace.lines)


@pytest.mark.usefixtures("no_root_config")
def test_malformed_patterns_row_loses_to_valid_rows(rsg: RsgDb, environ: dict) -> None:
    rsg.add("Broken", "https://ghcr.io", patterns='["**"')
    rsg.add("Good", "https://ghcr.io", patterns=["acme/*"])
    assert ask(environ, "ghcr.io/acme/api") == "good"
    assert ask(environ, "ghcr.io/other/api") is None


@pytest.mark.usefixtures("no_root_config")
@pytest.mark.parametrize("patterns", ["[]", "", "  "])
def test_empty_patterns_mean_host_level(rsg: RsgDb, environ: dict, patterns: str) -> None:
    rsg.add("Any", "https://ghcr.io", patterns=patterns)
    assert ask(environ, "ghcr.io/acme/api") == "any"


@pytest.mark.usefixtures("no_root_config")
def test_invalid_pattern_is_ignored_valid_sibling_used(rsg: RsgDb, environ: dict) -> None:
    rsg.add("Mixed", "https://ghcr.io", patterns=["quay.io/**", "acme/*"])
    assert ask(environ, "ghcr.io/acme/api") == "mixed"
    assert ask(environ, "quay.io/acme/api") is None


# ---- OAuth keys ---------------------------------------------------------------------------


@pytest.mark.usefixtures("no_root_config")
def test_oauth_key_found_only_verbatim(rsg: RsgDb, environ: dict) -> None:
    key = HUB_V1 + "access-token"
    rsg.add("tok", key, username="u", password="jwt", login=True)
    assert ask(environ, key) == "u"
    assert ask(environ, "docker.io") is None
    assert ask(environ, HUB_V1 + "refresh-token") is None


# ---- config-file fallback ---------------------------------------------------------------------


def write_config(path: Path, user: str, host: str = "ghcr.io") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:pw-{user}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return path


@pytest.fixture
def three_configs(tmp_path: Path, environ: dict) -> dict[str, Path]:
    files = {
        "explicit": write_config(tmp_path / "explicit.json", "explicit"),
        "docker_config": write_config(tmp_path / "dc" / "config.json", "docker_config"),
        "home": write_config(Path(environ["HOME"]) / ".docker" / "config.json", "home"),
    }
    environ["DOCKER__CONFIGPATH"] = str(files["explicit"])
    environ["DOCKER_CONFIG"] = str(tmp_path / "dc")
    return files


@pytest.mark.usefixtures("no_root_config")
def test_config_file_order(environ: dict, three_configs: dict[str, Path]) -> None:
    assert ask(environ, "ghcr.io") == "explicit"
    three_configs["explicit"].write_text("{}")
    assert ask(environ, "ghcr.io") == "docker_config"
    three_configs["docker_config"].unlink()
    assert ask(environ, "ghcr.io") == "home"
    three_configs["home"].write_text('{"auths": {"quay.io": {}}}')
    assert ask(environ, "ghcr.io") is None


@pytest.mark.usefixtures("no_root_config")
def test_malformed_config_file_is_skipped(environ: dict, three_configs: dict[str, Path]) -> None:
    three_configs["explicit"].write_text("{not json")
    assert ask(environ, "ghcr.io") == "docker_config"


@pytest.mark.usefixtures("no_root_config")
def test_appsettings_config_path(tmp_path: Path, environ: dict) -> None:
    config = write_config(tmp_path / "rsg-config.json", "appsettings")
    settings = tmp_path / "appsettings.json"
    settings.write_text(json.dumps({"docker": {"configPath": str(config)}}))
    environ["READYSTACK_APPSETTINGS"] = str(settings)
    assert ask(environ, "ghcr.io") == "appsettings"


@pytest.mark.usefixtures("no_root_config")
def test_table_before_config_files(rsg: RsgDb, environ: dict, three_configs: dict) -> None:
    rsg.add("Table", "https://ghcr.io")
    assert ask(environ, "ghcr.io") == "table"
    assert ask(environ, "ghcr.io/acme/api") == "table"


@pytest.mark.usefixtures("no_root_config")
def test_repository_question_falls_back_by_host(environ: dict, three_configs: dict) -> None:
    assert ask(environ, "ghcr.io/acme/api:1.0") == "explicit"


@pytest.mark.usefixtures("no_root_config")
def test_broken_database_is_skipped(
    environ: dict, three_configs: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Path(environ["READYSTACK_DB"])
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a SQLite database at all " * 40)
    assert ask(environ, "ghcr.io") == "explicit"
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "skipping the Registries table" in captured.err


@pytest.mark.usefixtures("no_root_config")
def test_oauth_key_never_falls_back_to_config(environ: dict, tmp_path: Path) -> None:
    environ["DOCKER__CONFIGPATH"] = str(
        write_config(tmp_path / "c.json", "cfg", host=HUB_V1 + "access-token")
    )
    assert ask(environ, HUB_V1 + "access-token") is None


# ---- the trace ------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_root_config")
def test_trace_names_the_pattern_winner(rsg: RsgDb, environ: dict) -> None:
    build(rsg, "CD")
    trace = Trace()
    assert ask(environ, "ghcr.io/acme/api", trace) == "d"
    text = "\n".join(trace.lines)
    assert "winner: row 'D'" in text
    assert "'ghcr.io/acme/api'" in text
    assert "specificity exact" in text


@pytest.mark.usefixtures("no_root_config")
@pytest.mark.parametrize(
    ("pattern", "question", "specificity"),
    [
        ("acme/app-*", "ghcr.io/acme/app-1", "wildcard, 1 literal leading segment(s), no **, 9"),
        ("acme/team/**", "ghcr.io/acme/team/x/y", "wildcard, 2 literal leading segment(s), has **"),
        ("*/app", "ghcr.io/acme/app", "wildcard, 0 literal leading segment(s), no **, 4"),
        ("acme/app", "ghcr.io/acme/app", "exact, 2 literal leading segment(s), no **, 8"),
    ],
)
def test_trace_states_each_part_of_a_patterns_specificity(
    rsg: RsgDb, environ: dict, pattern: str, question: str, specificity: str
) -> None:
    rsg.add("E", "https://ghcr.io", patterns=[pattern])
    trace = Trace()
    assert ask(environ, question, trace) == "e"
    assert f"(specificity {specificity}" in "\n".join(trace.lines)


@pytest.mark.usefixtures("no_root_config")
def test_trace_says_the_host_alone_decided(rsg: RsgDb, environ: dict) -> None:
    build(rsg, "CD")
    trace = Trace()
    assert ask(environ, "ghcr.io", trace) == "c"
    text = "\n".join(trace.lines)
    assert "winner: row 'C'" in text
    assert "host alone decided" in text


@pytest.mark.usefixtures("no_root_config")
def test_trace_names_config_file_and_missing_ones(environ: dict, three_configs: dict) -> None:
    three_configs["explicit"].unlink()
    trace = Trace()
    assert ask(environ, "ghcr.io", trace) == "docker_config"
    text = "\n".join(trace.lines)
    assert "not there" in text
    assert str(three_configs["docker_config"]) in text


@pytest.mark.usefixtures("no_root_config")
def test_explain_trace_reads_step_by_step(
    rsg: RsgDb, environ: dict, three_configs: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    rsg.add("A", "https://ghcr.io", patterns=["other/*", "acme/*"])
    rsg.add("B", "https://ghcr.io", username=None, password=None)
    three_configs["explicit"].write_text("{not json")
    three_configs["docker_config"].unlink()
    trace = Trace()
    assert ask(environ, "ghcr.io/zzz/app", trace) == "home"
    spec = "(specificity wildcard, 1 literal leading segment(s), no **"
    bad = "TMP/explicit.json: not valid JSON (Expecting property name enclosed in double quotes"
    assert "\n".join(trace.lines).replace(str(tmp_path), "TMP") == "\n".join(
        [
            "question: repository zzz/app on host ghcr.io",
            "1. Registries table in TMP/data/registries.db",
            "  row 'B': no username/password, so it cannot answer",
            f"  row 'A': pattern 'other/*' does not match zzz/app {spec}, 6 literal chars)",
            f"  row 'A': pattern 'acme/*' does not match zzz/app {spec}, 5 literal chars)",
            "  no pattern matched: rows for the whole host answer (login, default, no patterns)",
            "  no row answers for the whole host",
            "2. Docker config files",
            "  TMP/explicit.json (DOCKER__CONFIGPATH)",
            f"    unusable: {bad}: line 1 column 2 (char 1))",
            "  TMP/dc/config.json (DOCKER_CONFIG): not there",
            f"  {paths.ROOT_DOCKER_CONFIG} (root's Docker config): not there",
            "  TMP/home/.docker/config.json (~/.docker)",
            "    auths['ghcr.io'] has credentials for 'home'",
        ]
    )
    err = capsys.readouterr().err.replace(str(tmp_path), "TMP")
    assert err.startswith(f"docker-credential-readystack: skipping Docker config {bad}")


@pytest.mark.usefixtures("no_root_config")
def test_a_later_pattern_of_a_row_counts_after_an_earlier_one_missed(
    rsg: RsgDb, environ: dict
) -> None:
    rsg.add("A", "https://ghcr.io", patterns=["other/*", "acme/api"])
    rsg.add("B", "https://ghcr.io", patterns=["acme/*"])
    trace = Trace()
    assert ask(environ, "ghcr.io/acme/api", trace) == "a"
    assert "  row 'A': pattern 'acme/api' matches acme/api (specificity exact" in trace.lines[3]
    assert trace.lines[-1] == "  winner: row 'A', most specific matching pattern 'acme/api'"


@pytest.mark.usefixtures("no_root_config")
def test_of_equally_specific_patterns_the_trace_names_the_first(rsg: RsgDb, environ: dict) -> None:
    rsg.add("A", "https://ghcr.io", patterns=["acme/a*", "acme/*a"])
    trace = Trace()
    assert ask(environ, "ghcr.io/acme/aa", trace) == "a"
    assert trace.lines[-1] == "  winner: row 'A', most specific matching pattern 'acme/a*'"


@pytest.mark.usefixtures("no_root_config")
def test_for_a_host_the_default_row_beats_a_row_without_patterns(rsg: RsgDb, environ: dict) -> None:
    rsg.add("A", "https://ghcr.io")
    rsg.add("Z", "https://ghcr.io", default=True)
    assert ask(environ, "ghcr.io") == "z"


@pytest.mark.usefixtures("no_root_config")
def test_for_a_host_a_host_wide_pattern_beats_other_patterns(rsg: RsgDb, environ: dict) -> None:
    rsg.add("A", "https://ghcr.io", patterns=["acme/*"])
    rsg.add("Z", "https://ghcr.io", patterns=["ghcr.io/**"])
    assert ask(environ, "ghcr.io") == "z"


def _in_keyring(rsg: RsgDb, backend: type) -> str:
    label = secrets.KEYRING_PREFIX + path_of(backend)
    return rsg.add("A", "https://ghcr.io", "alice", None, secret_store=label)


@pytest.mark.usefixtures("no_root_config")
def test_a_row_in_the_keyring_answers_with_its_entry_and_says_nothing(
    rsg: RsgDb, environ: dict, capsys: pytest.CaptureFixture
) -> None:
    row_id = _in_keyring(rsg, MemoryKeyring)
    MemoryKeyring.store[secrets.SERVICE, f"{row_id}@ghcr.io"] = "s3cret"  # bound to its host
    answer = resolver.resolve(targets.parse("ghcr.io"), environ, environ["READYSTACK_DB"])
    assert answer is not None and (answer.username, answer.secret) == ("alice", "s3cret")
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("no_root_config")
@pytest.mark.parametrize(
    ("backend", "why"),
    [
        (MemoryKeyring, "its keyring entry is missing (run doctor)"),
        (LockedKeyring, "the keyring is locked"),
    ],
)
def test_a_row_whose_keyring_entry_cannot_be_read_is_skipped_with_one_line(
    rsg: RsgDb, environ: dict, capsys: pytest.CaptureFixture, backend: type, why: str
) -> None:
    MemoryKeyring.store.clear()
    _in_keyring(rsg, backend)
    assert ask(environ, "ghcr.io") is None
    err = capsys.readouterr().err
    assert err.startswith(f"docker-credential-readystack: skipping registry 'A': {why}")
    assert err.count("\n") == 1


@pytest.mark.usefixtures("no_root_config")
def test_explain_trace_ranks_the_rows_when_only_the_host_is_asked(
    rsg: RsgDb, environ: dict
) -> None:
    rsg.add("P", "https://ghcr.io")
    rsg.add("D", "https://ghcr.io", default=True)
    rsg.add("W", "https://ghcr.io", patterns=["ghcr.io/**"])
    rsg.add("O", "https://ghcr.io", patterns=["acme/*"])
    trace = Trace()
    assert ask(environ, "ghcr.io", trace) == "d"
    assert trace.lines[2:] == [
        "  row 'D': default row",
        "  row 'P': row without patterns",
        "  row 'W': host-wide pattern",
        "  row 'O': patterns for some repositories only (last for a host question)",
        "  winner: row 'D' (default row, first by rank then by name "
        "(only the host was asked, so the host alone decided))",
    ]


@pytest.mark.usefixtures("no_root_config")
def test_explain_trace_of_a_single_row_adds_no_ranking_remark(rsg: RsgDb, environ: dict) -> None:
    rsg.add("P", "https://ghcr.io")
    trace = Trace()
    assert ask(environ, "ghcr.io", trace) == "p"
    assert trace.lines[-1] == "  winner: row 'P' (row without patterns, first by rank then by name)"


@pytest.mark.usefixtures("no_root_config")
def test_an_image_no_pattern_matches_goes_to_the_default_row(rsg: RsgDb, environ: dict) -> None:
    rsg.add("A", "https://ghcr.io", patterns=["acme/*"])
    rsg.add("D", "https://ghcr.io", default=True)
    trace = Trace()
    assert ask(environ, "ghcr.io/zzz/app", trace) == "d"
    assert (
        "  no pattern matched: rows for the whole host answer (login, default, no patterns)"
        in trace.lines
    )


@pytest.mark.usefixtures("no_root_config")
def test_explain_trace_notes_how_the_question_was_read_and_a_missing_database(
    environ: dict,
) -> None:
    trace = Trace()
    question = targets.parse("nginx", bare_name_is_image=True)
    assert resolver.resolve(question, environ, environ["READYSTACK_DB"], trace) is None
    assert trace.lines[1] == f"note: {question.note}"
    assert trace.lines[3] == "  no database there (that is fine: it is empty)"


@pytest.mark.parametrize("stored", [True, False])
def test_explain_trace_says_whether_an_oauth_key_is_stored(
    rsg: RsgDb, environ: dict, stored: bool
) -> None:
    key = "https://index.docker.io/v1/access-token"
    if stored:
        rsg.add("Tok", key, "<token>", "t0k", login=True)
    trace = Trace()
    resolver.resolve(targets.parse(key), environ, environ["READYSTACK_DB"], trace)
    assert trace.lines[-1 if not stored else 2] == (
        "  the key is stored" if stored else "  the key is not stored"
    )


def test_a_table_answer_names_its_row(rsg: RsgDb, environ: dict) -> None:
    rsg.add("A", "https://ghcr.io")
    answer = resolver.resolve(targets.parse("ghcr.io"), environ, environ["READYSTACK_DB"])
    assert answer is not None and answer.source == "Registries row 'A'"


@pytest.mark.usefixtures("no_root_config")
def test_identity_tokens_are_skipped_for_the_kubelet_with_one_line_each(
    rsg: RsgDb, environ: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    rsg.add("Tok", "https://ghcr.io", "<token>", "t0k", login=True)
    config = tmp_path / "dc" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"auths": {"ghcr.io": {"identitytoken": "t0k"}}}))
    environ["DOCKER_CONFIG"] = str(config.parent)
    target = targets.parse("ghcr.io")
    assert resolver.resolve(target, environ, environ["READYSTACK_DB"], skip_tokens=True) is None
    err = capsys.readouterr().err.replace(str(tmp_path), "TMP")
    assert err.splitlines() == [
        "docker-credential-readystack: skipping registry 'Tok': the kubelet cannot use identity "
        "tokens",
        "docker-credential-readystack: skipping an identity token from auths['ghcr.io'] in "
        "TMP/dc/config.json: the kubelet cannot use one",
    ]


@pytest.mark.usefixtures("no_root_config")
def test_a_server_question_follows_the_docker_command_when_rows_differ(
    rsg: RsgDb, environ: dict
) -> None:
    rsg.add("Company", "https://ghcr.io", patterns=["team/*"])
    rsg.add("Default", "https://ghcr.io", default=True)
    calls = []

    def argv() -> list[str]:
        calls.append(1)
        return ["docker", "pull", "ghcr.io/team/app"]

    answer = resolver.resolve(
        targets.parse("ghcr.io"), environ, environ["READYSTACK_DB"], docker_argv=argv
    )
    assert answer is not None and answer.username == "company"
    assert calls == [1]


@pytest.mark.usefixtures("no_root_config")
def test_the_docker_command_is_not_read_when_one_row_answers_everything(
    rsg: RsgDb, environ: dict
) -> None:
    rsg.add("Default", "https://ghcr.io", patterns=["team/*"], default=True)

    def argv() -> list[str]:
        raise AssertionError("the parent's command line was read")

    answer = resolver.resolve(
        targets.parse("ghcr.io"), environ, environ["READYSTACK_DB"], docker_argv=argv
    )
    assert answer is not None and answer.username == "default"


@pytest.mark.usefixtures("no_root_config")
def test_a_repository_question_never_reads_the_docker_command(rsg: RsgDb, environ: dict) -> None:
    rsg.add("Company", "https://ghcr.io", patterns=["team/*"])
    rsg.add("Default", "https://ghcr.io", default=True)

    def argv() -> list[str]:
        raise AssertionError("the parent's command line was read")

    question = targets.parse("ghcr.io/other/app")
    answer = resolver.resolve(question, environ, environ["READYSTACK_DB"], docker_argv=argv)
    assert answer is not None and answer.username == "default"


@pytest.mark.usefixtures("no_root_config")
def test_explain_trace_says_when_no_row_has_credentials(rsg: RsgDb, environ: dict) -> None:
    rsg.add("B", "https://ghcr.io", username=None, password=None)
    trace = Trace()
    assert ask(environ, "ghcr.io", trace) is None
    assert "  no row with credentials on ghcr.io" in trace.lines


@pytest.mark.usefixtures("no_root_config")
def test_explain_trace_says_why_the_table_was_unusable(environ: dict, tmp_path: Path) -> None:
    db = tmp_path / "garbage.db"
    db.write_bytes(b"not a database at all" * 100)
    trace = Trace()
    assert resolver.resolve(targets.parse("ghcr.io"), environ, str(db), trace) is None
    assert trace.lines[2] == f"  unusable: cannot read {db}: file is not a database"


@pytest.mark.usefixtures("no_root_config")
def test_a_config_file_delegates_through_a_helper_on_the_callers_path(
    environ: dict, tmp_path: Path
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-fake"
    helper.write_text('#!/bin/sh\necho \'{"Username":"fake-user","Secret":"s"}\'\n')
    helper.chmod(0o755)
    config = tmp_path / "dc" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"credHelpers": {"ghcr.io": "fake"}}))
    environ["DOCKER_CONFIG"] = str(config.parent)
    environ["PATH"] = f"{bindir}:/usr/bin:/bin"
    assert ask(environ, "ghcr.io") == "fake-user"


@pytest.mark.usefixtures("no_root_config")
def test_explain_trace_names_an_invalid_pattern_it_ignores(rsg: RsgDb, environ: dict) -> None:
    rsg.add("A", "https://ghcr.io", patterns=["a b", "**"])
    trace = Trace()
    assert ask(environ, "ghcr.io/acme/app", trace) == "a"
    assert "  row 'A': ignoring invalid pattern: pattern 'a b' contains white space" in trace.lines


@pytest.mark.usefixtures("no_root_config")
def test_explain_trace_names_a_config_file_once_when_two_settings_name_it(
    environ: dict,
) -> None:
    home_config = write_config(Path(environ["HOME"]) / ".docker" / "config.json", "home", "quay.io")
    environ["DOCKER_CONFIG"] = str(home_config.parent)
    trace = Trace()
    assert ask(environ, "ghcr.io", trace) is None
    assert sum(str(home_config) in line for line in trace.lines) == 1


@pytest.mark.usefixtures("no_root_config")
def test_resolve_reads_the_table_through_the_opener_it_is_given(rsg: RsgDb, environ: dict) -> None:
    rsg.add("A", "https://ghcr.io")
    opened = []

    def opener(path: str) -> object:
        opened.append(path)
        return registries.open_read(path)

    answer = resolver.resolve(
        targets.parse("ghcr.io"), environ, environ["READYSTACK_DB"], open_db=opener
    )
    assert answer is not None and answer.username == "a"
    assert opened == [environ["READYSTACK_DB"]]


# ---- list ---------------------------------------------------------------------------------


def test_list_entries_keys(rsg: RsgDb, environ: dict) -> None:
    build(rsg, "AB")
    build(rsg, "CD")
    rsg.add("NoCreds", "https://quay.io", username=None, password=None)
    rsg.add("tok", HUB_V1 + "access-token", username="u", password="t", login=True)
    assert resolver.list_entries(environ["READYSTACK_DB"]) == {HUB_V1: "b", "ghcr.io": "c"}


# ---- ranking details ------------------------------------------------------------------------


@pytest.mark.usefixtures("no_root_config")
def test_server_question_ranking(rsg: RsgDb, environ: dict) -> None:
    rows = [
        ("R5", ["acme/*"], {}),
        ("R4", ["ghcr.io/**"], {}),
        ("R3", [], {}),
        ("R2", ["acme/*"], {"default": True}),
        ("R1", [], {"login": True}),
    ]
    for name, patterns, options in rows:
        rsg.add(name, "https://ghcr.io", patterns=patterns, **options)
    conn = sqlite3.connect(rsg.path)
    for expected in ["r1", "r2", "r3", "r4", "r5"]:
        assert ask(environ, "ghcr.io") == expected
        conn.execute('DELETE FROM "Registries" WHERE lower("Name") = ?', (expected,))
        conn.commit()
    conn.close()


@pytest.mark.usefixtures("no_root_config")
def test_equal_specificity_ties_by_name(rsg: RsgDb, environ: dict) -> None:
    rsg.add("beta", "https://ghcr.io", patterns=["acme/*"])
    rsg.add("Alpha", "https://ghcr.io", patterns=["acme/*"])
    assert ask(environ, "ghcr.io/acme/api") == "alpha"


@pytest.mark.usefixtures("no_root_config")
def test_unmatched_repository_skips_pattern_rows(rsg: RsgDb, environ: dict) -> None:
    rsg.add("Wide", "https://ghcr.io", patterns=["acme/**"])
    rsg.add("Plain", "https://ghcr.io", username=None)
    assert ask(environ, "ghcr.io/other/app") is None
    assert ask(environ, "ghcr.io") == "wide"


@pytest.mark.usefixtures("no_root_config")
@pytest.mark.parametrize(
    "url", ["https://registry.hub.docker.com", "docker.io", "https://registry-1.docker.io/v2/"]
)
def test_hub_aliases_in_url(rsg: RsgDb, environ: dict, url: str) -> None:
    rsg.add("Hub", url, patterns=["nginx"])
    assert ask(environ, "docker.io/nginx:1.25-alpine") == "hub"
    assert ask(environ, "library/nginx") == "hub"
    assert ask(environ, HUB_V1) == "hub"


@pytest.mark.usefixtures("no_root_config")
def test_matching_pattern_beats_login_row_for_repositories(rsg: RsgDb, environ: dict) -> None:
    rsg.add("ghcr.io", "https://ghcr.io", username="me", password="s", login=True)
    rsg.add("Acme", "https://ghcr.io", patterns=["acme/*"])
    assert ask(environ, "ghcr.io/acme/api") == "acme"
    assert ask(environ, "ghcr.io/other/api") == "me"
    assert ask(environ, "ghcr.io") == "me"


@pytest.mark.usefixtures("no_root_config")
def test_database_path_is_a_directory(environ: dict, three_configs: dict) -> None:
    Path(environ["READYSTACK_DB"]).mkdir(parents=True)
    assert ask(environ, "ghcr.io") == "explicit"


@pytest.mark.usefixtures("no_root_config")
def test_locked_database_is_skipped(rsg: RsgDb, environ: dict, three_configs: dict) -> None:
    rsg.add("Table", "https://ghcr.io")
    holder = sqlite3.connect(rsg.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert ask(environ, "ghcr.io") == "explicit"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert ask(environ, "ghcr.io") == "table"


@pytest.mark.usefixtures("no_root_config")
def test_explicit_config_path_beats_appsettings(
    tmp_path: Path, environ: dict, three_configs: dict
) -> None:
    settings = tmp_path / "appsettings.json"
    other = write_config(tmp_path / "appsettings-config.json", "appsettings")
    settings.write_text(json.dumps({"Docker": {"ConfigPath": str(other)}}))
    environ["READYSTACK_APPSETTINGS"] = str(settings)
    assert ask(environ, "ghcr.io") == "explicit"
    three_configs["explicit"].unlink()
    assert ask(environ, "ghcr.io") == "docker_config"  # appsettings only without the variable


# ---- where things are ---------------------------------------------------------------------


def test_config_candidates_order() -> None:
    if os.path.exists(paths.READYSTACK_CONTAINER_SETTINGS):
        pytest.skip("ReadyStackGo's appsettings.json exists on this machine")
    environ = {"HOME": "/h", "DOCKER__CONFIGPATH": "/x/c.json", "DOCKER_CONFIG": "/d"}
    assert [p for p, _ in paths.config_candidates(environ)] == [
        "/x/c.json",
        "/d/config.json",
        "/root/.docker/config.json",
        "/h/.docker/config.json",
    ]
    assert [p for p, _ in paths.config_candidates({"HOME": "/h"})] == [
        "/root/.docker/config.json",
        "/h/.docker/config.json",
    ]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"READYSTACK_DB": "/a.db", "DataPath": "/dp", "HOME": "/h"}, "/a.db"),
        ({"DataPath": "/dp", "HOME": "/h"}, "/dp/readystackgo.db"),
        (
            {"XDG_DATA_HOME": "/x", "HOME": "/h"},
            "/x/docker-credential-readystack/registries.db",
        ),
        ({"HOME": "/h"}, "/h/.local/share/docker-credential-readystack/registries.db"),
    ],
)
def test_database_path_order(environ: dict, expected: str) -> None:
    if os.path.exists(paths.READYSTACK_CONTAINER_DB) and "READYSTACK_DB" not in environ:
        pytest.skip("ReadyStackGo's container database exists on this machine")
    assert paths.database_path(environ)[0] == expected
    assert paths.database_path(environ, "/explicit.db") == ("/explicit.db", "--db")


@pytest.mark.usefixtures("no_root_config")
def test_a_row_whose_keyring_entry_is_not_bound_answers_and_says_how_to_bind_it(
    rsg: RsgDb, environ: dict, capsys: pytest.CaptureFixture
) -> None:
    MemoryKeyring.store.clear()
    row_id = _in_keyring(rsg, MemoryKeyring)
    MemoryKeyring.store[secrets.SERVICE, row_id] = "s3cret"  # written before entries were bound
    answer = resolver.resolve(targets.parse("ghcr.io"), environ, environ["READYSTACK_DB"])
    assert answer is not None and answer.secret == "s3cret"
    assert capsys.readouterr().err == (
        "docker-credential-readystack: registry 'A': its keyring entry is not bound to ghcr.io "
        "yet; run `registry move-secrets --to keyring` to bind it\n"
    )


@pytest.mark.usefixtures("no_root_config")
def test_a_row_with_the_maximum_number_of_patterns_uses_them_all_silently(
    rsg: RsgDb, environ: dict
) -> None:
    patterns = [f"x{n}/a" for n in range(MAX_PATTERNS - 1)] + ["acme/*"]
    rsg.add("A", "https://ghcr.io", patterns=patterns)
    trace = Trace()
    assert ask(environ, "ghcr.io/acme/app", trace) == "a"
    assert not any("patterns; only the first" in line for line in trace.lines)


@pytest.mark.usefixtures("no_root_config")
def test_patterns_past_the_maximum_are_ignored_and_the_trace_says_so(
    rsg: RsgDb, environ: dict
) -> None:
    patterns = [f"x{n}/a" for n in range(MAX_PATTERNS)] + ["acme/*"]
    rsg.add("A", "https://ghcr.io", patterns=patterns)
    trace = Trace()
    assert ask(environ, "ghcr.io/acme/app", trace) is None
    assert (
        f"  row 'A': {MAX_PATTERNS + 1} patterns; only the first {MAX_PATTERNS} are used"
        in trace.lines
    )
