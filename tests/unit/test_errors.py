"""The error table (store/errors.py, verberrors.py) and cli saying each error as it says."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from readystack.helper import cli
from readystack.helper.lookup import actions, logins
from readystack.helper.manage import admin
from readystack.store import errors, verberrors
from readystack.store.conventions import NAME, NOT_FOUND

TABLE = sorted(
    {
        c
        for module in (errors, verberrors)
        for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, BaseException)
    },
    key=lambda c: c.__name__,
)
REPORTED = [c for c in TABLE if c.reported]
INTERNAL = [c for c in TABLE if not c.reported]
DEBUG_HINT = "(READYSTACK_LOG=debug shows where)"


def _made(cls: type[errors.ReadyStackError]) -> errors.ReadyStackError:
    """An error of ``cls`` whose text is ``boom`` (NotFound's text is fixed)."""
    if cls is errors.NotFound:
        return cls()
    if cls is verberrors.Verdict:
        return verberrors.Verdict("error", "boom")
    return cls("boom")


def _raising(exc: BaseException) -> Callable[..., str]:
    def fail(*args: object, **kwargs: object) -> str:
        raise exc

    return fail


def test_every_class_of_the_table_says_its_exit_code_and_stream() -> None:
    assert len(TABLE) > 10
    for cls in TABLE:
        assert issubclass(cls, errors.ReadyStackError), cls
        assert cls.exit_code in (1, 2), cls
        assert cls.stream in (errors.STDOUT, errors.STDERR), cls
        assert cls.__doc__ and "\n" not in cls.__doc__, f"{cls.__name__}: one-line docstring"


def test_only_the_protocol_errors_go_to_stdout() -> None:
    on_stdout = {c for c in TABLE if c.stream == errors.STDOUT}
    assert on_stdout == {errors.HelperError, errors.NotFound}


def test_the_errors_the_old_mapping_named_keep_their_exit_and_stream() -> None:
    for cls in (verberrors.AdminError, errors.DatabaseError, errors.SecretStoreError):
        assert (cls.exit_code, cls.stream, cls.reported) == (1, errors.STDERR, True)
    assert (verberrors.ConfigError.exit_code, verberrors.UsageError.exit_code) == (1, 2)
    assert str(errors.NotFound()) == NOT_FOUND


@pytest.mark.parametrize("cls", REPORTED, ids=lambda c: c.__name__)
def test_a_management_verb_ends_as_the_table_says(
    cls: type[errors.ReadyStackError],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exc = _made(cls)
    monkeypatch.setattr(admin, "main", _raising(exc))
    assert cli._admin(["registry", "list"]) == cls.exit_code
    out, err = capsys.readouterr()
    if cls.stream == errors.STDOUT:
        assert (out, err) == (f"{exc}\n", "")
    else:
        assert (out, err) == ("", f"{NAME}: {exc}\n")


@pytest.mark.parametrize("cls", INTERNAL, ids=lambda c: c.__name__)
def test_an_internal_error_that_reaches_cli_is_said_as_a_failure(
    cls: type[errors.ReadyStackError],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(admin, "main", _raising(_made(cls)))
    assert cli._admin(["registry", "list"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{NAME}: registry failed: ") and err.endswith(f" {DEBUG_HINT}\n")


def test_a_foreign_exception_in_a_management_verb_is_said_as_a_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(admin, "main", _raising(RuntimeError("boom")))
    assert cli._admin(["doctor"]) == 1
    assert capsys.readouterr() == ("", f"{NAME}: doctor failed: boom {DEBUG_HINT}\n")


@pytest.mark.parametrize("verb", ["get", "store", "erase"])
def test_a_protocol_error_goes_to_stdout_as_it_is(
    verb: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_read_stdin", lambda verb: b"")
    module = actions if verb == "get" else logins
    monkeypatch.setattr(module, verb, _raising(errors.HelperError("no credentials username")))
    assert cli._protocol(verb) == 1
    assert capsys.readouterr() == ("no credentials username\n", "")


@pytest.mark.parametrize(
    "cls", [c for c in TABLE if c.stream == errors.STDERR], ids=lambda c: c.__name__
)
def test_a_stderr_error_in_get_still_answers_not_found(
    cls: type[errors.ReadyStackError],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli, "_read_stdin", lambda verb: b"")
    monkeypatch.setattr(actions, "get", _raising(_made(cls)))
    assert cli._protocol("get") == 1
    out, err = capsys.readouterr()
    assert out == f"{NOT_FOUND}\n"
    assert err.startswith(f"{NAME}: get failed: ") and err.endswith(f" {DEBUG_HINT}\n")


def test_a_database_error_in_store_answers_on_stdout_and_warns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_read_stdin", lambda verb: b"")
    monkeypatch.setattr(logins, "store", _raising(errors.DatabaseError("locked")))
    assert cli._protocol("store") == 1
    out, err = capsys.readouterr()
    assert out == f"{NAME}: store failed: locked\n"
    assert err == f"{NAME}: store failed: locked {DEBUG_HINT}\n"
