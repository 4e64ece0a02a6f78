"""PyInstaller's ctypes hooks, installed on the first import of ctypes instead of at every start.

PyInstaller's bootstrap calls `pyimod03_ctypes.install()` at start whenever ctypes is bundled,
and that imports ctypes (and loads _ctypes) for every `get`. ctypes is bundled only because
psycopg imports `ctypes.util` (sync and --db postgresql://). The spec removes that call from the
bootstrap and bundles this file as `_readystack_deferred_pyimod03_ctypes`; pyi_rth_readystack
imports it right after ctypes itself is first executed, so the hooks are in place before any
caller loads a library, as if they had been installed at start.
"""

import pyimod03_ctypes

pyimod03_ctypes.install()
