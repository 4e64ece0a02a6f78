"""`sync`'s mechanics: read SOURCE's rows, then make DEST's equal, keeping DEST's login rows.

10,000 rows must not cost a Python loop each (DESIGN.md "Budgets"). SOURCE's rows are filtered
and shaped in SQL and stay the driver's tuples, which SQLite's executemany binds in C; a SQLite
DEST is compared in SQL with the old file attached read-only, and the new file is built in
memory and written at once. (Handing SQLite one text value instead, parsed by json_each or as
one INSERT of literal VALUES, measured about twice as slow as executemany on SQLite 3.40.)
From PostgreSQL, every row is first read as COPY text and hashed; a replica stamped with that
digest (see syncstamp) already holds them, and the round ends without fetching them as tuples.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from . import conventions, registries, schema, sqliteread, syncstamp, writes
from .conventions import ADMIN, DATABASE, KEYRING_PREFIX, LOGIN
from .errors import DatabaseError
from .registries import SQLITE, Registries
from .schema import INSERT, NAMES, QUOTED, SIDE_INSERT, SIDE_TABLE, at, too_long, within_limits

Full = tuple  # a DEST row as raw_rows reads it: schema.FULL, the cells then Origin, SecretStore
Cells = tuple  # a row to copy: its Registries cells, in schema.NAMES order
WIDTH = len(NAMES)  # Full[:WIDTH] is a row's Cells
AT_ID = at("Id")
AT_NAME = at("Name")
AT_PASSWORD = at("Password")
AT_IS_DEFAULT = at("IsDefault")
AT_UPDATED = at("UpdatedAt")
AT_VERSION = at("Version")
AT_ORIGIN = at("Origin")
AT_STORE = at("SecretStore")
COPY = f'COPY "Registries" ({QUOTED}) FROM STDIN'
# A 0/1 integer on SQLite, a boolean on PostgreSQL: 0/1 from both.
BOOL01 = 'CASE WHEN r."IsDefault" THEN 1 ELSE 0 END'
# The side table's values as SQL literals (constants of ours, never input).
_LOGIN, _ADMIN, _DATABASE = (f"'{v}'" for v in (LOGIN, ADMIN, DATABASE))
# A SQLite database whose header says WAL (bytes 18-19 are 2): see `_refuse_wal`.
WAL_HEADER_BYTE = 18


class Plan:
    """What changed in DEST: added, updated, removed, kept (login rows) and their new form."""

    def __init__(
        self, added: int, updated: int, removed: int, old_logins: list[Full], new_logins: list[Full]
    ) -> None:
        self.added, self.updated, self.removed = added, updated, removed
        self.new_logins = new_logins  # DEST's login rows as they stay, renamed where names collide
        self.kept = len(old_logins)
        self.renamed = sum(1 for a, b in zip(old_logins, new_logins, strict=True) if a != b)

    @classmethod
    def nothing(cls, kept: int) -> Plan:
        """A round with nothing to change, DEST keeping ``kept`` login rows."""
        plan = cls(0, 0, 0, [], [])
        plan.kept = kept
        return plan

    @property
    def changes(self) -> bool:
        """Whether DEST must change at all."""
        return bool(self.added or self.updated or self.removed or self.renamed)

    def summary(self) -> str:
        """The counts, as `sync` prints them."""
        text = (
            f"{self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.kept} kept (login rows)"
        )
        return text + (f", {self.renamed} of them renamed" if self.renamed else "")


def python_plan(old: list[Full], source: list[Cells]) -> tuple[Plan, list[Cells]]:
    """The plan for a PostgreSQL DEST, compared in Python, and DEST's new rows."""
    logins = [r for r in old if r[AT_ORIGIN] == LOGIN]
    copied = {r[AT_ID]: r for r in old if r[AT_ORIGIN] != LOGIN}
    login_ids = {r[AT_ID] for r in logins}
    source = [r for r in source if r[AT_ID] not in login_ids]
    matched = [r for r in source if r[AT_ID] in copied]
    # Copied rows are plain rows: an administrator's row with its password, or none.
    updated = sum(1 for r in matched if (*r, ADMIN, DATABASE) != copied[r[AT_ID]])
    new_logins = _renamed(logins, {str(r[AT_NAME]).lower() for r in source})
    plan = Plan(len(source) - len(matched), updated, len(copied) - len(matched), logins, new_logins)
    return plan, source + [r[:WIDTH] for r in new_logins]


def _renamed(logins: list[Full], taken: set[str]) -> list[Full]:
    # DESIGN.md: a kept login row whose name collides gets " (local)", then " (local 2)", ...
    out = []
    for row in logins:
        name = str(row[AT_NAME])
        if name.lower() in taken:
            candidates = [f"{name} (local)"] + [f"{name} (local {i})" for i in range(2, 1000)]
            name = next(c for c in candidates if c.lower() not in taken)
            row = _with(
                row, {AT_NAME: name, AT_UPDATED: writes.now(), AT_VERSION: row[AT_VERSION] + 1}
            )
        taken.add(name.lower())
        out.append(row)
    return out


def _with(row: Full, changes: dict[int, object]) -> Full:
    return tuple(changes.get(i, v) for i, v in enumerate(row))


def _side(db: Registries) -> tuple[str, str, str]:
    # Rows the side table does not list are an administrator's, with the secret in the table.
    if "ReadyStackHelper" not in db.tables:
        return "", _ADMIN, _DATABASE
    join = ' LEFT JOIN "ReadyStackHelper" h ON h."RegistryId" = r."Id"'
    return join, f'coalesce(h."Origin", {_ADMIN})', f'coalesce(h."SecretStore", {_DATABASE})'


def raw_rows(db: Registries, logins_only: bool = False) -> list[Full]:
    """Every row (or every login row) with all its columns and its side-table entry, in order.

    One shape on both backends, made in SQL: IsDefault 0/1, Origin and SecretStore filled in.
    """
    if "Registries" not in db.tables:
        return []
    join, origin, store = _side(db)
    columns = [f'r."{c}"' for c in NAMES]
    columns[AT_IS_DEFAULT] = BOOL01
    sql = f'SELECT {", ".join(columns)}, {origin}, {store} FROM "Registries" r{join}'
    if logins_only:
        sql += f" WHERE {origin} = {_LOGIN}"
    return db.query(sql + " ORDER BY " + db.dialect.r_order + db.lock_rows)


def _source_select(db: Registries) -> tuple[str, str, tuple]:
    """The rows to copy, shaped in SQL (unordered), with the FROM/WHERE part and its parameters.

    Never a login row; a secret kept elsewhere than the table is left out (Password NULL).
    """
    join, origin, store = _side(db)
    columns = [f'r."{c}"' for c in NAMES]
    columns[AT_IS_DEFAULT] = BOOL01
    columns[AT_PASSWORD] = f'CASE WHEN {store} = {_DATABASE} THEN r."Password" END'
    where, params = _copied(db, join, origin)
    # Longer cells are none of ReadyStackGo's: not copied.
    where += f" AND {within_limits(octets=db.dialect.octets)}"
    return f"SELECT {', '.join(columns)}{where}", where, params


def _copied(db: Registries, join: str, origin: str) -> tuple[str, tuple]:
    """The FROM/WHERE part selecting SOURCE's rows that are not logins, and its parameters."""
    where = f' FROM "Registries" r{join} WHERE {origin} <> {_LOGIN}'
    if db.organization is None:
        return where, ()
    return where + ' AND upper(r."OrganizationId") = ?', (db.organization,)


def _too_long(db: Registries) -> list[str]:
    """One line for each row to copy with a cell longer than ReadyStackGo's maximum."""
    join, origin, _store = _side(db)
    where, params = _copied(db, join, origin)
    # The Name is shown when it is itself within its limit, else the start of the Id.
    shown = f'CASE WHEN length(r."Name") <= {schema.max_len("Name")} THEN r."Name" END'
    found = db.query(
        f'SELECT {shown}, substr(r."Id", 1, 60), {too_long()}{where} '
        f"AND NOT ({within_limits(octets=db.dialect.octets)}) ORDER BY {db.dialect.r_order}",
        params,
    )
    return [
        f"registry {ascii(n) if isinstance(n, str) else 'with Id ' + ascii(ident)}: its {column} "
        f"is longer than {schema.max_len(column)} characters, ReadyStackGo's maximum; not copied"
        for n, ident, column in found
    ]


def _keyring_names(db: Registries, where: str, params: tuple) -> list[str]:
    """The names of the rows to copy whose secret is in a keyring (copied without it)."""
    if "ReadyStackHelper" not in db.tables:
        return []
    store = _side(db)[2]
    in_keyring = f"substr({store}, 1, {len(KEYRING_PREFIX)}) = '{KEYRING_PREFIX}'"
    keyring = f"{where} AND {in_keyring} ORDER BY {db.dialect.r_order}"
    return [str(name) for (name,) in db.query(f'SELECT r."Name"{keyring}', params)]


class Source:
    """What one round read from SOURCE: the rows to copy, or the plan of a DEST that has them."""

    def __init__(
        self, rows: list[Cells], digest: str | None = None, unchanged: Plan | None = None
    ) -> None:
        self.rows, self.digest, self.unchanged = rows, digest, unchanged


def read_source(
    location: str,
    warn: Callable[[str], None],
    dest: str,
    timeout: float = conventions.REMOTE_TIMEOUT,
) -> Source:
    """SOURCE's rows to copy: no login rows, no cell too long; keyring-held secrets left out.

    One line each goes to ``warn`` for a secret left out and a row refused. ``timeout`` bounds
    every wait on PostgreSQL.

    From PostgreSQL the rows are fetched as tuples only when ``dest`` is not stamped with them.
    """
    try:
        source, notes = _read_source(location, dest, timeout)
    except (DatabaseError, registries.sqlite3.Error, OSError) as exc:
        raise DatabaseError(f"cannot read {conventions.shown(location)}: {_reason(exc)}") from None
    for line in notes:
        warn(line)
    return source


def _reason(exc: BaseException) -> str:
    # The store's messages already say what could not be done to which file: keep the why.
    text = getattr(exc, "strerror", None) or str(exc)
    for prefix in ("cannot read ", "cannot write ", "cannot open "):
        if text.startswith(prefix) and ": " in text:
            return text.split(": ", 1)[1]
    return text


def _read_source(location: str, dest: str, timeout: float) -> tuple[Source, list[str]]:
    db = _open_source(location, timeout)
    try:
        if "Registries" not in db.tables:
            raise DatabaseError("it has no Registries table")
        select, where, params = _source_select(db)
        remote = db.dialect is not SQLITE
        if remote:
            # One snapshot for every read: the keyring report, the digest and the rows agree,
            # and a stamp always names what was copied.
            db.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        notes = [
            f"registry {name!r}: its secret is in a keyring on the source host; copied without it"
            for name in _keyring_names(db, where, params)
        ]
        notes += _too_long(db)
        digest = None
        if remote and not conventions.is_remote(dest):
            digest = db.conn.digest(select, params)  # type: ignore[attr-defined]
            plan = unchanged(dest, digest)
            if plan is not None:
                return Source([], digest, plan), notes
        rows = db.query(f"{select} ORDER BY {db.dialect.r_order}", params)
    finally:
        db.close()
    return Source(rows, digest), notes


def unchanged(path: str, digest: str) -> Plan | None:
    """The plan of a round with nothing to write: the file ``path`` is stamped with ``digest``.

    DEST is read as a lookup reads it (no lock, no trace); anything unexpected leaves the
    decision to the write, which reports it.
    """
    try:
        if os.path.exists(path):
            _refuse_wal(path)
        db = registries.open_read(path)
    except (DatabaseError, registries.sqlite3.Error, OSError):
        return None
    if db is None:
        return None
    try:
        if db.is_readystackgo or syncstamp.read(db) != digest:
            return None
        join, origin, _store = _side(db)
        logins = db.query(f'SELECT count(*) FROM "Registries" r{join} WHERE {origin} = {_LOGIN}')
    except (DatabaseError, registries.sqlite3.Error):
        return None
    finally:
        db.close()
    return Plan.nothing(logins[0][0])


def _open_source(location: str, timeout: float) -> Registries:
    if conventions.is_remote(location):
        from . import pgsql

        return pgsql.open_read(location, timeout)
    db = registries.open_read(location)  # reads without leaving a trace, even ReadyStackGo's
    if db is None:
        raise DatabaseError("it does not exist")
    return db


def write_dest(
    location: str,
    source: list[Cells],
    digest: str | None,
    timeout: float = conventions.REMOTE_TIMEOUT,
) -> Plan:
    """Make DEST's rows SOURCE's, keeping DEST's login rows; returns what changed.

    ``digest`` (SOURCE's, from PostgreSQL) is stamped into a SQLite DEST.
    """
    try:
        if conventions.is_remote(location):
            return _write_postgres(location, source, timeout)
        # Another sync may replace the file while this one waits for its lock: read it again.
        return writes.retry_replaced(
            location, "sync", lambda: _write_file(location, source, digest)
        )
    except (DatabaseError, registries.sqlite3.Error, OSError) as exc:
        raise DatabaseError(f"cannot write {conventions.shown(location)}: {_reason(exc)}") from None


def _refuse(db: Registries) -> None:
    if db.is_readystackgo:
        raise DatabaseError(
            "it is a ReadyStackGo database; sync never writes to one (use it as --from)"
        )


def _write_postgres(uri: str, source: list[Cells], timeout: float) -> Plan:
    from . import pgsql

    db = pgsql.open_write(uri, timeout)
    try:
        with writes.transaction(db):
            plan, rows = python_plan(raw_rows(db), source)
            if plan.changes:
                db.conn.execute('DELETE FROM "Registries"')
                db.conn.copy_rows(COPY, rows)  # type: ignore[attr-defined]
                _write_side(db, plan)
    finally:
        db.close()
    return plan


def _write_side(db: Registries, plan: Plan) -> None:
    if "ReadyStackHelper" in db.tables:
        db.conn.execute('DELETE FROM "ReadyStackHelper"')
    for row in plan.new_logins:
        writes.record_side(db, row[AT_ID], LOGIN, row[AT_STORE])


def _write_file(path: str, source: list[Cells], digest: str | None) -> Plan:
    if os.path.exists(path):
        _refuse_wal(path)
    # An empty DEST is created first, so logins lock it too. A DEST another user owns is allowed:
    # `sync --to` is named by a person, and root syncing a user's replica keeps it theirs.
    db = writes.open_write(path, foreign_ok=True)
    try:
        _refuse(db)
        # The write lock is held from reading DEST's login rows until the new file is in place:
        # a `docker login` waiting for it then finds the file replaced and writes to the new one.
        with writes.transaction(db):
            join, origin, _store = _side(db)
            copied = db.query(
                f'SELECT count(*) FROM "Registries" r{join} WHERE {origin} <> {_LOGIN}'
            )
            logins = raw_rows(db, logins_only=True)
            old = Old(path, logins, copied[0][0], bool(join), syncstamp.read(db))
            return _replace(path, source, old, digest)
    finally:
        db.close()


class Old:
    """What the new file is compared with: DEST's path, login rows, copied rows, stamp."""

    def __init__(
        self, path: str, logins: list[Full], copied: int, side: bool, stamp: str | None
    ) -> None:
        self.path, self.logins, self.copied, self.side = path, logins, copied, side
        self.stamp = stamp


def _refuse_wal(path: str) -> None:
    # SQLite opens an existing `-wal` beside a file whatever the file's header says, so a file
    # renamed over a WAL database could be read together with the old one's log.
    with open(path, "rb") as fh:
        header = fh.read(WAL_HEADER_BYTE + 2)
    if len(header) == WAL_HEADER_BYTE + 2 and header[WAL_HEADER_BYTE] == 2:
        raise DatabaseError(
            "it is in WAL mode, and sync keeps replicas in rollback-journal mode: give a new file"
        )


def _replace(path: str, source: list[Cells], old: Old, digest: str | None) -> Plan:
    """Build the new table; if it differs, write it beside ``path``, fsync it, rename it over."""
    from .faultpoint import reached

    folder = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}."
    _remove_leftovers(folder, prefix)
    plan, image = _build(source, old, digest)
    if image is None:
        return plan
    fd, temp = tempfile.mkstemp(prefix=prefix, suffix=".sync", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp made it 0600
            fh.write(image)
            fh.flush()
            os.fsync(fh.fileno())
        st = os.stat(path)
        if os.geteuid() == 0 and (st.st_uid, st.st_gid) != (0, 0):
            os.chown(temp, st.st_uid, st.st_gid)  # root syncing a user's replica keeps it theirs
        reached("after-replica-fsync")
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    reached("after-replica-rename")
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)
    return plan


def _remove_leftovers(folder: str, prefix: str) -> None:
    """Remove the new files of syncs killed before their rename (each holds every secret).

    Only the holder of DEST's write lock writes one, and that is us now: any other is dead.
    """
    for name in os.listdir(folder):
        if name.startswith(prefix) and name.endswith(".sync"):
            try:
                os.unlink(os.path.join(folder, name))
            except FileNotFoundError:
                pass


def _build(source: list[Cells], old: Old, digest: str | None) -> tuple[Plan, bytes | None]:
    """The plan, and the new database file's bytes when DEST must change (or be stamped).

    Built in memory and written with one write: SQLite would write it page by page.
    """
    conn = registries.sqlite3.connect(":memory:", isolation_level=None, uri=True)
    try:
        if old.copied:
            # Read-only, as a lookup reads it: DEST's lock stays with DEST's own connection.
            conn.execute("ATTACH ? AS old", (sqliteread.read_only_uri(old.path),))
        conn.execute("BEGIN")
        plan, write = _fill(conn, source, old, digest)
        conn.execute("COMMIT")
        return plan, conn.serialize() if write else None
    finally:
        conn.close()


def _fill(
    conn: registries.sqlite3.Connection, source: list[Cells], old: Old, digest: str | None
) -> tuple[Plan, bool]:
    """The plan, and whether the file must be written: it changes, or it lacks this stamp."""
    table, *indexes = SQLITE.schema
    conn.execute(table)
    conn.executemany(INSERT, source)  # the driver's tuples as they came: no Python loop
    # SOURCE's copy of a row that is a login here is not copied: the login stays.
    conn.executemany('DELETE FROM "Registries" WHERE "Id" = ?', [(r[AT_ID],) for r in old.logins])
    count = conn.execute('SELECT count(*) FROM "Registries"').fetchone()[0]
    matched, updated = _compare(conn, old.side) if old.copied else (0, 0)
    taken = set()
    if old.logins:
        taken = {str(n).lower() for (n,) in conn.execute('SELECT "Name" FROM "Registries"')}
    new_logins = _renamed(old.logins, taken)
    plan = Plan(count - matched, updated, old.copied - matched, old.logins, new_logins)
    if not plan.changes and digest in (None, old.stamp):
        return plan, False  # a stamp from an earlier SOURCE still holds: its rows are these
    conn.executemany(INSERT, [row[:WIDTH] for row in new_logins])
    for statement in indexes:  # built once from the rows: faster than row by row
        conn.execute(statement)
    conn.execute(SIDE_TABLE)
    conn.executemany(SIDE_INSERT, ((r[AT_ID], LOGIN, r[AT_STORE]) for r in new_logins))
    if digest is not None:
        syncstamp.install(conn, digest)
    return plan, True


def _compare(conn: registries.sqlite3.Connection, side: bool) -> tuple[int, int]:
    """How many new rows DEST already had, and how many of those differ (in SQL, not Python)."""
    differs = [f'o."{c}" IS NOT n."{c}"' for c in NAMES]
    differs[AT_IS_DEFAULT] = 'CASE WHEN o."IsDefault" THEN 1 ELSE 0 END IS NOT n."IsDefault"'
    join = ""
    if side:  # a copied row is an administrator's row with its secret in the table
        join = ' LEFT JOIN old."ReadyStackHelper" h ON h."RegistryId" = o."Id"'
        differs.append(f'coalesce(h."Origin", {_ADMIN}) <> {_ADMIN}')
        differs.append(f'coalesce(h."SecretStore", {_DATABASE}) <> {_DATABASE}')
    found = conn.execute(
        f"SELECT count(*), coalesce(sum({' OR '.join(differs)}), 0) "
        f'FROM main."Registries" n JOIN old."Registries" o ON o."Id" = n."Id"{join}'
    ).fetchone()
    return found[0], found[1]
