"""`explain IMAGE --online`: check what `get` would answer, and name the cause in plain words.

The causes are ReadyStackGo's own troubleshooting list for `pull access denied`: no credentials
configured, wrong credentials, no pattern matches the image, the image does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping

from readystack.store import hosts, registries
from readystack.store.conventions import Answer
from readystack.store.verberrors import UsageError

from ..lookup import target as targets
from ..lookup.resolver import choose
from ..online import regcheck
from .regtest import parse_image_option

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..lookup.resolver import Opener

NO_CREDENTIALS = "no credentials configured"
WRONG_CREDENTIALS = "wrong credentials"
NO_PATTERN = "no pattern matches the image"
NO_IMAGE = "the image does not exist in the registry"


def diagnose(
    text: str,
    target: targets.Target,
    answer: Answer | None,
    db_path: str,
    environ: Mapping[str, str],
    timeout: float,
    open_db: Opener,
) -> tuple[bool, list[str]]:
    """(the image can be pulled, the lines to print) for the question ``text``.

    ``open_db`` opens the table the answer came from (PostgreSQL when `--db` names it).
    """
    image = _image(text, target)
    what = str(image) if image else target.host
    rows = _rows_on(target.host, db_path, open_db)
    others = [r for r in rows if r.has_credentials]
    if answer is None:
        # The scheme of a row on that host when there is one (a plain-HTTP registry), else https.
        url = rows[0].url if rows else f"https://{target.host}"
        status, detail = regcheck.check(url, "", "", image, environ, timeout)
        lines = [f"online: anonymous access to {what}: {status}: {detail}"]
        if status == regcheck.OK:
            return True, [*lines, f"verdict: {what} can be pulled without credentials"]
        if status in NOT_REACHED:
            return False, [*lines, _not_reached(status, target.host)]
        if others and target.kind == targets.REPOSITORY:
            names = ", ".join(repr(r.name) for r in others)
            why = f"rows {names} hold credentials for {target.host}, but none answers {what}"
            return False, [*lines, f"cause: {NO_PATTERN}: {why}"]
        return False, [*lines, f"cause: {NO_CREDENTIALS} for {target.host}"]
    chosen = choose(rows, target) if answer.source.startswith("Registries row") else None
    url = chosen.url if chosen is not None else f"https://{target.host}"
    status, detail = regcheck.check(url, answer.username, answer.secret, image, environ, timeout)
    lines = [f"online: {answer.source} at {url}: {status}: {detail}"]
    if status == regcheck.OK:
        return True, [*lines, f"verdict: {what} can be pulled with these credentials"]
    return False, [*lines, _cause(status, detail, what, chosen, others, target.host)]


def _cause(
    status: str,
    detail: str,
    what: str,
    chosen: registries.Row | None,
    others: list[registries.Row],
    host: str,
) -> str:
    if status in NOT_REACHED:
        return _not_reached(status, host)
    if status == regcheck.UNAUTHORIZED:
        return f"cause: {WRONG_CREDENTIALS}: {detail}"
    if status == regcheck.NOT_FOUND:
        return f"cause: {NO_IMAGE}: {detail}"
    if status == regcheck.DENIED:
        rest = [r for r in others if chosen is None or r.id != chosen.id]
        if rest:
            names = ", ".join(repr(r.name) for r in rest)
            return (
                f"cause: {NO_PATTERN}: the credentials that answered may not pull {what}, and "
                f"rows {names} also hold credentials for {host}: give the right one a pattern "
                "that matches the image"
            )
        if hosts.is_hub(host):
            return (
                f"cause: {NO_IMAGE}, or the account may not pull it (Docker Hub answers both "
                "the same way)"
            )
        return f"cause: {WRONG_CREDENTIALS}: the account is valid but may not pull {what}"
    return f"cause unknown: the registry answered {status}: {detail}"


# Statuses where the registry never gave its verdict: the failure itself is the cause.
NOT_REACHED = (regcheck.UNREACHABLE, regcheck.TLS, regcheck.ERROR)


def _not_reached(status: str, host: str) -> str:
    """The cause when the check never got the registry's verdict (the line above says why)."""
    unchecked = "so neither the credentials nor the image could be checked"
    if status == regcheck.UNREACHABLE:
        return f"cause: the registry at {host} cannot be reached, {unchecked}"
    if status == regcheck.TLS:
        return (
            f"cause: TLS with the registry at {host} failed, {unchecked} (see `registry test` "
            "in the README for certs.d and plain-HTTP registries)"
        )
    return f"cause: the registry at {host} did not answer as a registry, {unchecked}"


def _image(text: str, target: targets.Target) -> regcheck.Image | None:
    if target.kind != targets.REPOSITORY:
        return None
    try:
        return parse_image_option(text)
    except UsageError:  # a bare name: `get` reads it as a host, `explain` as a Hub image
        return regcheck.Image(target.host, target.path, "latest")


def _rows_on(host: str, db_path: str, open_db: Opener) -> list[registries.Row]:
    db = open_db(db_path)
    if db is None:
        return []
    try:
        return db.rows_for_host(host)
    finally:
        db.close()
