# PyInstaller hook for psycopg_binary, in place of pyinstaller-hooks-contrib's.
#
# The contrib hook names the hidden import `psycopg_binary._uuid`, a module older psycopg_binary
# releases had; since 3.2 the UUID loader lives inside `_psycopg` (its `_uuid_from_bytes`), so the
# contrib hook makes every build print `WARNING: Hidden import "psycopg_binary._uuid" not found!`.
# This hook keeps the import only where the installed release still ships the module, so the
# build stays warning-free without losing it on an older psycopg_binary.
import glob
import importlib.util
import os

# find_spec of the top-level package reads its location without importing it (psycopg_binary
# refuses to be imported on its own).
_spec = importlib.util.find_spec("psycopg_binary")
_where = os.path.dirname(_spec.origin) if _spec is not None and _spec.origin else ""
hiddenimports = ["psycopg_binary._uuid"] if glob.glob(os.path.join(_where, "_uuid*")) else []
