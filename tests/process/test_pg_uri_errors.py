"""A PostgreSQL URI that does not parse is named without its user information (issue 24, item 5).

libpq's parse errors quote the part they could not read, which was the password; through
`sync-from`, a timer wrote that line to the journal every minute.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Run

PROG = b"docker-credential-readystack: "
# (URI, the URI as messages show it): a space, a bad percent escape, an unclosed IPv6 bracket,
# and unencoded `/` and `?` in the password, which a split at the first `/` or `?` would show.
URIS = [
    ("postgresql://u:Pw0rd SECRET@127.0.0.1:1/fleet", "postgresql://127.0.0.1:1/fleet"),
    ("postgresql://u:Pw0rd%zzSECRET@127.0.0.1:1/fleet", "postgresql://127.0.0.1:1/fleet"),
    ("postgresql://u:SECRET@[::1/fleet", "postgresql://[::1/fleet"),
    ("postgresql://u:a/SECRET b@127.0.0.1:1/fleet", "postgresql://127.0.0.1:1/fleet"),
    ("postgresql://u:a?SECRET b@127.0.0.1:1/fleet", "postgresql://127.0.0.1:1/fleet"),
]


@pytest.mark.parametrize(("uri", "shown"), URIS, ids=["space", "percent", "ipv6", "slash", "query"])
def test_a_uri_that_does_not_parse_never_shows_its_password(
    run: Run, env: dict[str, str], uri: str, shown: str
) -> None:
    invalid = f"invalid PostgreSQL URI {shown}".encode()
    sync = run("sync", "--from", uri, "--to", env["READYSTACK_DB"])
    assert sync.returncode == 1
    assert sync.stderr == PROG + f"sync: cannot read {shown}: ".encode() + invalid + b"\n"
    listed = run("registry", "list", "--db", uri)
    assert listed.returncode == 1
    assert listed.stderr == PROG + invalid + b"\n"
    for proc in (sync, listed):
        assert b"SECRET" not in proc.stdout + proc.stderr
        assert b"Pw0rd" not in proc.stdout + proc.stderr


def test_the_same_through_sync_from_in_the_config_file(run: Run, env: dict[str, str]) -> None:
    config = Path(env["HOME"]) / ".config" / "docker-credential-readystack" / "config"
    config.parent.mkdir(parents=True)
    config.write_text(f"sync-from = {URIS[0][0]}\n")
    proc = run("sync")
    assert proc.returncode == 1
    assert b"SECRET" not in proc.stderr and b"Pw0rd" not in proc.stderr
    assert proc.stderr.endswith(b"invalid PostgreSQL URI postgresql://127.0.0.1:1/fleet\n")
