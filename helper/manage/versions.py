"""`version --verbose`: the version line, then each library that handles secrets or the table.

For a person (Docker only ever runs `version` alone, which stays one line): which Python,
SQLite and OpenSSL this executable runs with, and which of them it carries itself. The binary
bundles libpython, and psycopg_binary's libpq with its own OpenSSL; cryptography links OpenSSL
statically. The Debian package takes libssl, libcrypto and libsqlite3 from Debian instead
(packaging/deb.sh), so Debian's security updates reach them. Each library's file is read from
/proc/self/maps, so the report says where it was really loaded from.
"""

from __future__ import annotations

import os
import sys

from readystack.helper import __version__

from ..lookup.protocol import NAME


def _mapped() -> list[str]:
    """The shared library files mapped into this process, in first-mapped order."""
    seen: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                path = fields[5].strip() if len(fields) == 6 else ""
                if ".so" in os.path.basename(path) and path not in seen:
                    seen.append(path)
    except OSError:
        pass
    return seen


def _where(stem: str, exclude: str = "") -> str:
    """``bundled: FILE`` or ``FILE`` for the mapped library whose name starts with ``stem``."""
    bundle = getattr(sys, "_MEIPASS", None)
    for path in _mapped():
        name = os.path.basename(path)
        if name.startswith(stem) and not (exclude and name.startswith(exclude)):
            inside = bundle is not None and path.startswith(bundle + os.sep)
            return f"bundled: {path}" if inside else path
    return "statically linked"


def _openssl_of(stem: str) -> str:
    """The version text of the mapped libcrypto whose file name starts with ``stem``."""
    import ctypes  # only for the OpenSSL inside psycopg_binary, which Python cannot name

    for path in _mapped():
        if os.path.basename(path).startswith(stem):
            version = ctypes.CDLL(path).OpenSSL_version
            version.restype = ctypes.c_char_p
            return str(version(0).decode("ascii", "replace"))
    return "unknown"


def _lines() -> list[str]:
    import sqlite3
    import ssl

    found = [
        f"Python {sys.version.split()[0]} ({_where('libpython')})",
        f"SQLite {sqlite3.sqlite_version} ({_where('libsqlite3')})",
        f"{ssl.OPENSSL_VERSION} for TLS ({_where('libssl.so')})",
    ]
    try:
        from psycopg import pq

        pq_version = pq.version()
        pq_text = f"{pq_version // 10000}.{pq_version % 10000}"
        crypto = _openssl_of("libcrypto-") if pq.__impl__ == "binary" else "the system's"
        found.append(
            f"libpq {pq_text} for PostgreSQL ({pq.__impl__}: {_where('libpq')}), "
            f"with {crypto} ({_where('libssl-')})"
        )
    except ImportError:
        found.append("libpq: not available (psycopg is not installed)")
    try:
        import cryptography
        from cryptography.hazmat.backends.openssl import backend

        found.append(
            f"cryptography {cryptography.__version__} for the keyring, with "
            f"{backend.openssl_version_text()} built in ({_where('_rust')})"
        )
    except ImportError:
        found.append("cryptography: not available")
    return found


def report() -> str:
    """The version line, then one line per library."""
    return "\n".join([f"{NAME} ({NAME}) {__version__}", *_lines()]) + "\n"
