"""The modules `get` of a database row must never import: one list for every check of it.

The import test (tests/process/test_imports.py), the bundle check (packaging/bundlecheck.py) and
the benchmark (bench/) all read this list. Nothing on the `get` path imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable

# Each costs 5-70 ms per credential lookup (performance.md): keyring and its Secret Service stack
# (secretstorage, jeepney, cryptography, and importlib.metadata for its entry points), PyInstaller's
# costly runtime hooks' triggers (inspect, pkgutil, zipfile, ctypes), and the stdlib modules
# `get` does without (argparse, logging, json, subprocess, dataclasses, typing, email, urllib,
# pathlib, shutil), the HTTP client of `registry test` with what it brings (urllib3, ssl,
# http), docker-py with requests (configure-docker --readystackgo only), and the PostgreSQL
# driver, which only `sync` and `--db postgresql://` use. And one cheap one the lookup modules
# need for annotations only (collections.abc: one module, ~0.46 M instructions per `get`).
GET_DENIED = (
    "keyring",
    "secretstorage",
    "jeepney",
    "cryptography",
    "importlib.metadata",
    "importlib_metadata",
    "inspect",
    "pkgutil",
    "zipfile",
    "ctypes",
    "argparse",
    "logging",
    "json",
    "subprocess",
    "dataclasses",
    "typing",
    "email",
    "urllib",
    "pathlib",
    "shutil",
    "urllib3",
    "ssl",
    "http",
    "docker",
    "requests",
    "psycopg",
    "psycopg_binary",
    "collections.abc",
)


def denied_among(modules: Iterable[str]) -> list[str]:
    """The modules among ``modules`` that are denied or inside a denied package, sorted."""
    return sorted({m for m in modules for d in GET_DENIED if m == d or m.startswith(d + ".")})
