"""A keyring asked for with a flag gets the flag's fix, not READYSTACK_SECRETS's."""

from __future__ import annotations

import pytest
from readystack.helper.manage.adminlib import keyring_advice
from readystack.store import errors, secrets


@pytest.mark.parametrize("message", [secrets._ADVICE, secrets._NO_COLLECTION, secrets._LOCKED])
def test_every_keyring_advice_ends_with_the_variable_the_flag_replaces(message: str) -> None:
    exc = errors.SecretStoreError(f"keyring backend X cannot keep secrets safely; {message}")
    flagged = keyring_advice(exc, " or use --secret-store database")
    assert flagged.endswith(" or use --secret-store database")
    assert "READYSTACK_SECRETS" not in flagged
    assert "READYSTACK_SECRETS" not in keyring_advice(exc, "")
    assert not keyring_advice(exc, "").endswith((",", " or"))
    # The separator before the advice is kept: ", or use" stays ", or use".
    assert (", or use" in message) == (", or use --secret-store" in flagged)


def test_other_keyring_errors_are_left_as_they_are() -> None:
    exc = errors.SecretStoreError("the keyring did not keep the secret")
    assert keyring_advice(exc, " or use --secret-store database") == str(exc)
