"""The Debian package: its layout, no maintainer script, and a real install and removal with apt.

These run when READYSTACK_DEB names a built package (`packaging/build.sh` writes
dist/docker-credential-readystack_<version>_<arch>.deb; CI sets READYSTACK_DEB in the pass that
tests the binary). Without it they skip; with CI=true and READYSTACK_DEB set, nothing may skip.
The install test needs root and a machine where the package is not installed already.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NAME = "docker-credential-readystack"
REPO = Path(__file__).resolve().parents[2]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true" and os.environ.get("READYSTACK_DEB"):
        pytest.fail(f"{reason} (CI=true with READYSTACK_DEB set: must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def deb() -> Path:
    """The package under test."""
    named = os.environ.get("READYSTACK_DEB")
    if not named:
        _unavailable("READYSTACK_DEB is not set: run packaging/build.sh and point it at the .deb")
    if shutil.which("dpkg-deb") is None:
        _unavailable("dpkg-deb is not installed")
    path = Path(named).resolve()
    assert path.is_file(), f"READYSTACK_DEB={named} is not a file"
    return path


def _dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


def _version() -> str:
    import readystack.helper as helper

    return helper.__version__


def test_package_is_named_by_version_and_debian_arch(deb: Path) -> None:
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert deb.name == f"{NAME}_{_version()}_{arch}.deb"
    fields = {f: _dpkg_deb("--field", str(deb), f).strip() for f in ("Package", "Architecture")}
    assert fields == {"Package": NAME, "Architecture": arch}


def test_package_holds_the_bundle_and_a_bin_symlink_and_no_maintainer_script(deb: Path) -> None:
    listing = _dpkg_deb("--contents", str(deb)).splitlines()
    entries = {line.split()[5].removeprefix("."): line for line in listing}
    link = entries[f"/usr/bin/{NAME}"]
    assert link.startswith("l") and link.endswith(f"-> ../lib/{NAME}/{NAME}")
    exe = entries[f"/usr/lib/{NAME}/{NAME}"]
    assert exe.startswith("-rwxr-xr-x root/root")
    assert all(" root/root " in line for line in listing)
    writable = [ln for ln in listing if not ln.startswith("l") and "w" in (ln[5], ln[8])]
    assert not writable  # no group or other write bit (symlinks have none to speak of)
    outside = [p for p in entries if not p.startswith(("/usr/lib/", "/usr/bin/")) and p != "/"]
    assert outside in ([], ["/usr/"]), outside
    control = subprocess.run(
        ["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True, check=True
    ).stdout
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(control)) as tar:
        members = sorted(m.name.removeprefix("./") for m in tar.getmembers() if m.isfile())
    assert members == ["control"]  # no preinst/postinst/prerm/postrm, no conffiles


def test_debian_libraries_are_depended_on_instead_of_bundled(deb: Path) -> None:
    # packaging/deb.sh: libssl, libcrypto and libsqlite3 come from Debian (security updates);
    # psycopg_binary's libpq and its own OpenSSL stay bundled under their hashed names.
    depends = _dpkg_deb("--field", str(deb), "Depends")
    packages = {d.split()[0] for d in depends.split(",")}
    assert {"libc6", "libssl3", "libsqlite3-0"} <= packages, depends
    internal = f"/usr/lib/{NAME}/_internal/"
    names = {
        line.split()[5].removeprefix(".").removeprefix(internal)
        for line in _dpkg_deb("--contents", str(deb)).splitlines()
    }
    assert not {"libssl.so.3", "libcrypto.so.3", "libsqlite3.so.0"} & names
    assert any(n.startswith("psycopg_binary.libs/libpq-") for n in names)


def _installed() -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Status}", NAME], capture_output=True, text=True
    )
    return done.returncode == 0 and "installed" in done.stdout.split()


def test_apt_installs_it_into_usr_bin_and_removes_every_file_again(
    deb: Path, tmp_path: Path
) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        _unavailable("installing a package needs root and apt-get")
    if _installed():
        pytest.skip(f"{NAME} is already installed here; not touching it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-y", "-q", "--no-install-recommends"]
    subprocess.run([*apt, "install", str(deb)], check=True, capture_output=True, env=env)
    try:
        files = subprocess.run(
            ["dpkg-query", "-L", NAME], capture_output=True, text=True, check=True
        ).stdout.split()
        done = subprocess.run(
            [f"/usr/bin/{NAME}", "version"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{NAME} ({NAME}) {_version()}\n"
        verbose = subprocess.run(
            [f"/usr/bin/{NAME}", "version", "--verbose"], capture_output=True, text=True, timeout=60
        ).stdout.splitlines()
        # Debian's libsqlite3 and libssl are the ones loaded; libpq is psycopg_binary's own.
        assert "/x86_64-linux-gnu/" in verbose[2] or "-linux-gnu/" in verbose[2], verbose
        assert "bundled" not in verbose[2] + verbose[3], verbose
        assert "bundled: /usr/lib/" in verbose[4], verbose
        lookup = subprocess.run(
            [f"/usr/bin/{NAME}", "get"],
            input=b"ghcr.io",
            capture_output=True,
            timeout=60,
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(tmp_path),
                "READYSTACK_DB": str(tmp_path / "x.db"),
            },
        )
        assert (lookup.returncode, lookup.stdout) == (
            1,
            b"credentials not found in native keychain\n",
        )
    finally:
        subprocess.run([*apt, "remove", NAME], check=True, capture_output=True, env=env)
    assert not _installed()
    left = [f for f in files if f.startswith(("/usr/lib/docker-", "/usr/bin/docker-credential-r"))]
    assert left and not [f for f in left if os.path.lexists(f)]
