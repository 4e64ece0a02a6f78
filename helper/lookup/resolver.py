"""Resolution: the Registries table first, then Docker config files; the first answer wins."""

from __future__ import annotations

from readystack.store import conventions, hosts, registries
from readystack.store.conventions import TOKEN_USERNAME, Answer
from readystack.store.diag import debug, warn
from readystack.store.errors import DatabaseError, HostError, PatternError

from . import target as targets
from .patterns import MAX_PATTERNS, Pattern, compile_pattern

TYPE_CHECKING = False  # collections.abc serves annotations only: a lookup never imports it
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    Note = Callable[[str], None]
    Opener = Callable[[str], registries.Registries | None]
    # Gives the docker command line the image hint reads (None: unknown; a str: why there is none).
    ArgvSource = Callable[[], list[str] | str | None]
# Rank of a row that answers for a whole host (lower answers first).
RANK_NAMES = (
    "login row",
    "default row",
    "row without patterns",
    "host-wide pattern",
    "patterns for some repositories only (last for a host question)",
)
DEFAULT_ROW = RANK_NAMES[1]
PATTERN = "pattern"  # how a row won a repository question by its pattern


class Trace:
    """The human-readable record `explain` prints; a no-op when nobody asked for it."""

    __slots__ = ("lines", "depth")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str) -> None:
        self.lines.append("  " * self.depth + line)


class _Indent:
    """Indent the trace lines written inside a ``with`` block (nothing without a trace)."""

    __slots__ = ("trace",)

    def __init__(self, trace: Trace | None) -> None:
        self.trace = trace

    def __enter__(self) -> None:
        if self.trace:
            self.trace.depth += 1

    def __exit__(self, *exc: object) -> None:
        if self.trace:
            self.trace.depth -= 1


def _quiet(_: str) -> None:
    return None


def resolve(
    target: targets.Target,
    environ: Mapping[str, str],
    db_path: str,
    trace: Trace | None = None,
    skip_tokens: bool = False,
    docker_argv: ArgvSource | None = None,
    open_db: Opener = registries.open_read,
) -> Answer | None:
    """Answer ``target`` from the table, then each config file; None when nobody knows it.

    ``skip_tokens`` leaves out identity tokens, which the kubelet's API cannot carry.
    ``docker_argv`` enables the image hint for a server question (see hint.py).
    ``open_db`` opens the table (a management verb's ``--db postgresql://`` opens a server).
    """
    note = trace or _quiet
    note(f"question: {target.describe()}")
    if target.note:
        note(f"note: {target.note}")
    note(f"1. Registries table in {conventions.shown(db_path)}")
    answer = None
    with _Indent(trace):
        try:
            answer = from_table(target, db_path, note, skip_tokens, docker_argv, open_db)
        except DatabaseError as exc:
            warn(f"skipping the Registries table: {exc}")
            note(f"unusable: {exc}")
        except OSError as exc:
            where = conventions.shown(db_path)
            warn(f"skipping the Registries table in {where}: {exc.strerror or exc}")
            note(f"unusable: {exc.strerror or exc}")
    if answer is not None or target.kind == targets.OAUTH:
        return answer
    answer = from_config_files(target, environ, note, trace)
    if answer is not None and skip_tokens and answer.username == TOKEN_USERNAME:
        warn(f"skipping an identity token from {answer.source}: the kubelet cannot use one")
        return None
    return answer


def from_config_files(
    target: targets.Target, environ: Mapping[str, str], note: Note, trace: Trace | None
) -> Answer | None:
    """Step 2: each Docker config file, in order; broken files are skipped with one line."""
    from readystack.store import dockerconfig, paths
    from readystack.store.verberrors import ConfigError

    candidates = paths.config_candidates(environ)
    note("2. Docker config files")
    files = dockerconfig.existing_files(candidates)
    # For the trace, every candidate once, in the order consulted (DOCKER_CONFIG=~/.docker names
    # the same file as the last candidate); the lookup itself only visits `files`.
    ordered = dockerconfig.each_file_once(candidates) if trace else files
    with _Indent(trace):
        for path, how in ordered:
            if (path, how) not in files:
                note(f"{path} ({how}): not there")
                continue
            note(f"{path} ({how})")
            with _Indent(trace):
                try:
                    found = dockerconfig.lookup(path, target.host, environ, note)
                except ConfigError as exc:
                    warn(f"skipping Docker config {exc}")
                    note(f"unusable: {exc}")
                    continue
            if found is not None:
                return found
    return None


def from_table(
    target: targets.Target,
    db_path: str,
    note: Note,
    skip_tokens: bool = False,
    docker_argv: ArgvSource | None = None,
    open_db: Opener = registries.open_read,
) -> Answer | None:
    """Step 1: the best row of the Registries table for ``target``."""
    db = open_db(db_path)
    if db is None:
        note("no database there (that is fine: it is empty)")
        return None
    try:
        if target.kind == targets.OAUTH:
            row = db.row_for_key(target.raw)
            note("the key is stored" if row else "the key is not stored")
            chosen = row
        else:
            rows = db.rows_for_host(target.host)
            if skip_tokens:
                for row in [r for r in rows if r.username == TOKEN_USERNAME]:
                    warn(f"skipping registry {row.name!r}: the kubelet cannot use identity tokens")
                    rows.remove(row)
            if docker_argv is not None and target.kind == targets.SERVER:
                target = _hinted(target, rows, docker_argv, note)
            chosen = choose(rows, target, note)
        if chosen is None:
            return None
        secret = secret_of(chosen)
        if secret is None:
            return None
        debug(f"table row {chosen.name!r} answers {target.describe()}")
        return Answer(chosen.username or "", secret, f"Registries row {chosen.name!r}")
    finally:
        db.close()


def _hinted(
    target: targets.Target, rows: list[registries.Row], docker_argv: ArgvSource, note: Note
) -> targets.Target:
    """The image hint's question for a server ``target``; the parent is read only if it matters."""
    if not repository_matters(rows):
        return target
    from .hint import references

    images = references(target, docker_argv(), note)
    return (agreed(rows, images, note) if images else None) or target


def agreed(
    rows: list[registries.Row], images: list[targets.Target], note: Note
) -> targets.Target | None:
    """The one question that answers for every image named on the host asked, or None.

    If they all route to one row, that row answers; if they route to several rows and exactly
    one of those won by a pattern while every other image fell to the host's default row, the
    pattern row answers (the company account serves its private images and, like any account,
    the public ones); otherwise None, and the host ranking answers. One image is the first case.
    """
    if len(images) == 1:
        return images[0]
    from .hint import no

    routes = [(image, *choose_how(rows, image)) for image in images]
    by_row = {row.id: row for _, row, _ in routes if row is not None}
    if len(by_row) == 1 and all(row is not None for _, row, _ in routes):
        return _agree(note, routes[0][0], f"all {len(images)} images route to row", routes[0][1])
    patterned = {row.id for _, row, how in routes if row is not None and how == PATTERN}
    rest = [(row, how) for _, row, how in routes if row is None or row.id not in patterned]
    if len(patterned) == 1 and all(row is not None and how == DEFAULT_ROW for row, how in rest):
        first = next(image for image, row, _ in routes if row is not None and row.id in patterned)
        return _agree(note, first, "one pattern row, every other image on the default row", None)
    names = sorted({row.name if row else "no row" for _, row, _ in routes})
    return no(note, f"the images route to rows that do not agree ({', '.join(names)})")


def _agree(
    note: Note, image: targets.Target, why: str, row: registries.Row | None
) -> targets.Target:
    line = f"image hint: {why}{f' {row.name!r}' if row else ''}; answering as for {image.path}"
    debug(line)
    note(line)
    return image


def repository_matters(rows: list[registries.Row]) -> bool:
    """Whether some repository on these rows' host could get another row than the host does.

    Decided from the rows alone, so that the common host (a login, a default row, rows without
    patterns) never pays for reading the parent process.
    """
    answering = [r for r in rows if r.has_credentials]
    if not any(r.patterns != [] for r in answering):
        return False  # without patterns, a repository gets the host's ranking
    if len(answering) > 1:
        return True
    # One row: it answers a repository no pattern matches only if it answers for the host.
    return not (answering[0].is_login or answering[0].is_default)


def secret_of(row: registries.Row) -> str | None:
    """The row's secret from its store; None (with one stderr line) when it is missing."""
    if not row.in_keyring:
        return row.password or ""
    from readystack.store import secrets
    from readystack.store.errors import SecretStoreError

    try:
        secret, bound = secrets.get(row.secret_store, row.id, row.host or "")
    except SecretStoreError as exc:
        warn(f"skipping registry {row.name!r}: {exc}")
        return None
    if secret is None:
        warn(f"skipping registry {row.name!r}: its keyring entry is missing (run doctor)")
    elif not bound:
        # Written before entries were bound to their host: still answered, so that an upgrade
        # breaks no pull, until `registry move-secrets --to keyring` binds it.
        warn(
            f"registry {row.name!r}: its keyring entry is not bound to {row.host} yet; "
            "run `registry move-secrets --to keyring` to bind it"
        )
    return secret


def compile_row(row: registries.Row, note: Note = _quiet) -> list[Pattern]:
    """The row's usable patterns; invalid ones are reported and ignored."""
    if row.patterns is None:
        note(f"row {row.name!r}: ImagePatterns is not a JSON array of strings; no pattern applies")
        return []
    out = []
    if len(row.patterns) > MAX_PATTERNS:
        note(
            f"row {row.name!r}: {len(row.patterns)} patterns; only the first {MAX_PATTERNS} "
            "are used"
        )
    for text in row.patterns[:MAX_PATTERNS]:
        try:
            out.append(compile_pattern(text, row.host or ""))
        except PatternError as exc:
            note(f"row {row.name!r}: ignoring invalid pattern: {exc}")
    return out


def host_rank(row: registries.Row, compiled: list[Pattern]) -> int:
    """Where a row stands when only the host is known (see RANK_NAMES)."""
    if row.is_login:
        return 0
    if row.is_default:
        return 1
    if row.patterns == []:
        return 2
    if any(p.host_wide for p in compiled):
        return 3
    return 4


def choose(
    rows: list[registries.Row], target: targets.Target, note: Note = _quiet
) -> registries.Row | None:
    """Pick the row that answers ``target`` among the rows on its host (DESIGN.md's rules)."""
    return choose_how(rows, target, note)[0]


def choose_how(
    rows: list[registries.Row], target: targets.Target, note: Note = _quiet
) -> tuple[registries.Row | None, str]:
    """choose(), and how the row won: PATTERN, or the name of its host rank."""
    candidates = []
    for row in rows:
        if row.has_credentials:
            candidates.append((row, compile_row(row, note)))
        else:
            note(f"row {row.name!r}: no username/password, so it cannot answer")
    if not candidates:
        note(f"no row with credentials on {target.host}")
        return None, ""
    if target.kind == targets.REPOSITORY:
        winner = _by_pattern(candidates, target.path, note)
        if winner is not None:
            return winner, PATTERN
        note("no pattern matched: rows for the whole host answer (login, default, no patterns)")
        ranked = [(host_rank(r, c), r) for r, c in candidates if host_rank(r, c) <= 2]
    else:
        ranked = [(host_rank(r, c), r) for r, c in candidates]
    if not ranked:
        note("no row answers for the whole host")
        return None, ""
    asked = _asked_login(target)
    # A login row stored under exactly the key asked wins over one found through a Hub alias.
    ranked.sort(
        key=lambda item: (item[0], item[1].login_host != asked, item[1].name.casefold(), item[1].id)
    )
    for rank, row in ranked:
        note(f"row {row.name!r}: {RANK_NAMES[rank]}")
    rank, row = ranked[0]
    why = f"{RANK_NAMES[rank]}, first by rank then by name"
    if target.kind == targets.SERVER and len(ranked) > 1:
        why += " (only the host was asked, so the host alone decided)"
    note(f"winner: row {row.name!r} ({why})")
    return row, RANK_NAMES[rank]


def _asked_login(target: targets.Target) -> str | None:
    """For a server question, the name a login for it is kept under (DESIGN: store / erase)."""
    if target.kind != targets.SERVER:
        return None
    try:
        return hosts.login_host(target.raw)
    except HostError:
        return None


def _by_pattern(
    candidates: list[tuple[registries.Row, list[Pattern]]], path: str, note: Note
) -> registries.Row | None:
    best: tuple[tuple, registries.Row, Pattern] | None = None
    for row, compiled in candidates:
        for pattern in compiled:
            hit = pattern.matches(path)
            note(
                f"row {row.name!r}: pattern {pattern.text!r} "
                f"{'matches' if hit else 'does not match'} {path} (specificity {_spec(pattern)})"
            )
            if not hit:
                continue
            order = (tuple(-int(x) for x in pattern.key), row.name.casefold(), row.id)
            if best is None or order < best[0]:
                best = (order, row, pattern)
    if best is None:
        return None
    note(f"winner: row {best[1].name!r}, most specific matching pattern {best[2].text!r}")
    return best[1]


def _spec(pattern: Pattern) -> str:
    exact, lead, no_globstar, literal = pattern.key
    return (
        f"{'exact' if exact else 'wildcard'}, {lead} literal leading segment(s), "
        f"{'no **' if no_globstar else 'has **'}, {literal} literal chars"
    )


def list_entries(db_path: str) -> dict[str, str]:
    """``list``: one entry per host with credentials in the table, keyed as ``get`` reads it."""
    db = registries.open_read(db_path)
    if db is None:
        return {}
    try:
        rows = db.all_rows()
    finally:
        db.close()
    by_host: dict[str, list[registries.Row]] = {}
    for row in rows:
        if row.host and not row.is_oauth_key and row.has_credentials:
            by_host.setdefault(row.host, []).append(row)
    entries = {}
    for host, host_rows in by_host.items():
        winner = choose(host_rows, targets.Target(host, targets.SERVER, host))
        if winner is not None:
            entries[hosts.server_key(host)] = winner.username or ""
    return entries
