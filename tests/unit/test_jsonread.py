"""store/jsonread.py, the one guarded JSON reader; errors.ClosedOnFailure, for openers."""

from __future__ import annotations

import pytest
from readystack.store.errors import ClosedOnFailure
from readystack.store.jsonread import NESTED, BadJSON, read_json


def test_read_json_gives_the_value() -> None:
    assert read_json('{"a": [1, "b"]}') == {"a": [1, "b"]}
    assert read_json(b'["bytes"]') == ["bytes"]


def test_first_reads_only_the_first_value_as_go_s_decoder_does() -> None:
    assert read_json('{"a": 1} trailing words', first=True) == {"a": 1}
    with pytest.raises(BadJSON):
        read_json('{"a": 1} trailing words')


def test_a_malformed_document_says_the_decoders_position_never_its_text() -> None:
    with pytest.raises(BadJSON) as caught:
        read_json('{"secret-ish": ')
    assert "line 1" in str(caught.value) and "secret" not in str(caught.value)
    assert not caught.value.nested


@pytest.mark.parametrize("first", [False, True])
def test_a_document_nested_past_the_stack_is_bad_json_not_a_crash(first: bool) -> None:
    with pytest.raises(BadJSON) as caught:
        read_json("[" * 100_000, first=first)
    assert caught.value.nested and str(caught.value) == NESTED


def test_bytes_that_are_not_text_are_bad_json() -> None:
    with pytest.raises(BadJSON):
        read_json(b"\xff\xfe\xfa")


class _Resource:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_closed_on_failure_closes_and_reraises_when_the_block_fails() -> None:
    resource = _Resource()
    with pytest.raises(KeyboardInterrupt), ClosedOnFailure(resource):
        raise KeyboardInterrupt  # BaseException too: Ctrl-C while opening leaks nothing
    assert resource.closed == 1


def test_closed_on_failure_leaves_a_resource_open_when_the_block_succeeds() -> None:
    resource = _Resource()
    with ClosedOnFailure(resource) as same:
        assert same is resource
    assert resource.closed == 0
