"""Every message tells the truth and says what to do: closed streams, edge inputs, typos."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from .conftest import Run

NAME = b"docker-credential-readystack"
USAGE = b"Usage: docker-credential-readystack <store|get|erase|list|version>\n"
NOT_FOUND = b"credentials not found in native keychain\n"
REQUEST = {
    "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
    "kind": "CredentialProviderRequest",
}


def closed_stdin(exe: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run the helper with file descriptor 0 closed, as `helper get <&-` does."""
    script = 'exec "$0" "$@" <&-'
    return subprocess.run(
        ["/bin/sh", "-c", script, str(exe), *args], capture_output=True, env=env, timeout=30
    )


def add(run: Run, name: str, url: str, *args: str, password: bytes = b"pw\n"):
    return run(
        "registry",
        "add",
        name,
        "--url",
        url,
        "--username",
        "u",
        "--password-stdin",
        *args,
        stdin=password,
    )


@pytest.mark.parametrize("verb", ["get", "store", "erase"])
def test_closed_stdin_is_empty_input_for_the_protocol(
    exe: Path, env: dict[str, str], verb: str
) -> None:
    proc = closed_stdin(exe, env, verb)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, b"no credentials server URL\n", b"")


def test_closed_stdin_for_management_verbs_says_what_reads_it(
    exe: Path, env: dict[str, str]
) -> None:
    proc = closed_stdin(exe, env, "registry", "add", "x", "--url", "ghcr.io", "--password-stdin")
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert proc.stderr == (
        NAME + b": stdin is closed; --password-stdin reads the password from it: "
        b"pipe the password in\n"
    )
    assert not Path(env["READYSTACK_DB"]).exists()
    proc = closed_stdin(exe, env, "kubelet")
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert proc.stderr == NAME + b" kubelet: stdin is closed; the kubelet sends its request there\n"


@pytest.mark.parametrize(
    "args", [("explain", "nginx"), ("doctor",), ("registry", "list"), ("resolve", "ghcr.io")]
)
def test_a_reader_that_goes_away_ends_the_verb_quietly(
    run: Run, exe: Path, env: dict[str, str], args: tuple[str, ...]
) -> None:
    for i in range(3):
        add(run, f"r{i}", f"r{i}.example.com")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: EPIPE, deterministically
    try:
        proc = subprocess.run(
            [str(exe), *args], stdout=write_end, stderr=subprocess.PIPE, env=env, timeout=30
        )
    finally:
        os.close(write_end)
    # 141 = 128 + SIGPIPE: what the shell reports for `yes | head -1`.
    assert (proc.returncode, proc.stderr) == (141, b"")


def test_host_names_over_dns_limits_are_refused_before_any_sql(
    run: Run, env: dict[str, str]
) -> None:
    add(run, "local", "http://127.0.0.1:5055")
    long_host = "a" * 70_000
    proc = run("erase", stdin=long_host.encode())
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")
    proc = run("get", stdin=long_host.encode())
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, NOT_FOUND, b"")
    label = "b" * 64 + ".io"
    proc = add(run, "long", label)
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert proc.stderr == (
        NAME
        + f": invalid registry URL {label!r}: invalid host name {label!r}: a label has 64 "
        "characters, DNS allows 63\n".encode()
    )
    proc = add(run, "huge", long_host)
    assert proc.stderr == (
        NAME
        + b": invalid registry URL '"
        + b"a" * 60
        + "…".encode()
        + b"': invalid host name: 70000 characters, DNS allows 253\n"
    )


def test_logout_says_once_what_happened(run: Run) -> None:
    add(run, "local", "http://127.0.0.1:5055")
    keys = ["127.0.0.1:5055", "http://127.0.0.1:5055", "https://127.0.0.1:5055", "127.0.0.1:5055"]
    for key in keys:  # no login row: nothing happened, nothing said
        proc = run("erase", stdin=key.encode())
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")
    login = {"ServerURL": "127.0.0.1:5055", "Username": "me", "Secret": "s"}
    assert run("store", stdin=json.dumps(login).encode()).returncode == 0
    said = [run("erase", stdin=key.encode()) for key in keys]
    assert [p.returncode for p in said] == [0, 0, 0, 0]
    assert said[0].stderr == (
        NAME + b": erased the login for 127.0.0.1:5055; administrator rows still answer for "
        b"127.0.0.1:5055: 'local'\n"
    )
    assert [p.stderr for p in said[1:]] == [b"", b"", b""]
    assert all(p.stdout == b"" for p in said)


def _drop_dac(exe: Path) -> list[str]:
    """A command prefix under which file permissions apply, also to root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if os.environ.get("CI") == "true":
            pytest.fail("setpriv (util-linux) is missing")
        pytest.skip("running as root without setpriv: permissions are not enforced")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def test_an_unreadable_database_gets_one_text_in_every_verb(
    run: Run, exe: Path, env: dict[str, str]
) -> None:
    add(run, "local", "http://127.0.0.1:5055")
    db = env["READYSTACK_DB"]
    os.chmod(db, 0)
    prefix = _drop_dac(exe)

    def as_user(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
        return subprocess.run(
            [*prefix, str(exe), *args], input=stdin, capture_output=True, env=env, timeout=30
        )

    read = (
        f"this user ({_user()}) may not read the database {db}; ask its owner for access "
        f"(ls -l {db}), run as a user who may, or choose another with --db"
    )
    write = read.replace("may not read the", "may not read and write the")
    proc = as_user("get", stdin=b"127.0.0.1:5055")
    assert (proc.returncode, proc.stdout) == (1, NOT_FOUND)
    assert (
        proc.stderr.decode()
        == f"docker-credential-readystack: skipping the Registries table: {read}\n"
    )
    login = json.dumps({"ServerURL": "ghcr.io", "Username": "u", "Secret": "s"}).encode()
    proc = as_user("store", stdin=login)
    assert (proc.returncode, proc.stdout.decode(), proc.stderr) == (
        1,
        f"docker-credential-readystack: {write}\n",
        b"",
    )
    proc = as_user("registry", "list")
    assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (
        1,
        b"",
        f"docker-credential-readystack: {read}\n",
    )
    proc = as_user("registry", "remove", "local")
    assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (
        1,
        b"",
        f"docker-credential-readystack: {write}\n",
    )
    proc = as_user("doctor")
    assert proc.returncode == 1
    assert f"PROBLEM  {read}\n" in proc.stdout.decode()


def test_a_folder_given_as_the_database_is_named_as_such(
    run: Run, tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "dbdir"
    folder.mkdir()
    text = (
        f"{folder} is a folder, not a database file; name the file itself "
        f"(e.g. {folder / 'registries.db'})"
    )
    for args in (("registry", "list"), ("registry", "add", "x", "--url", "ghcr.io")):
        proc = run(*args, "--db", str(folder))
        assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (
            1,
            b"",
            f"docker-credential-readystack: {text}\n",
        )
    proc = run("doctor", "--db", str(folder))
    assert proc.returncode == 1
    assert f"PROBLEM  {text}\n" in proc.stdout.decode()
    assert b"chmod" not in proc.stdout


def test_a_url_that_is_no_url_is_quoted_as_typed(run: Run) -> None:
    proc = run("registry", "add", "x", "--url", "not a url")
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert (
        proc.stderr == NAME + b": invalid registry URL 'not a url': invalid host name 'not a url'\n"
    )


def test_a_named_database_in_a_missing_folder_is_an_error(
    run: Run, tmp_path: Path, env: dict[str, str]
) -> None:
    missing = tmp_path / "typo" / "x.db"
    text = (
        f"the database {missing} (from --db) cannot exist: its folder {missing.parent} does not "
        "exist; correct the path, or create the folder first\n"
    )
    for args in (("registry", "list"), ("registry", "add", "x", "--url", "ghcr.io")):
        proc = run(*args, "--db", str(missing))
        assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (
            1,
            b"",
            f"docker-credential-readystack: {text}",
        )
    assert not missing.parent.exists()
    proc = run("registry", "list", READYSTACK_DB=str(missing))
    assert proc.stderr.decode() == "docker-credential-readystack: " + text.replace(
        "(from --db)", "(from READYSTACK_DB)"
    )
    # The protocol stays silent: a missing database is an empty table.
    proc = run("get", stdin=b"ghcr.io", READYSTACK_DB=str(missing))
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, NOT_FOUND, b"")
    # Only the default database's folder is created without asking.
    env.pop("READYSTACK_DB")
    proc = run(
        "registry",
        "add",
        "x",
        "--url",
        "ghcr.io",
        "--username",
        "u",
        "--password-stdin",
        stdin=b"pw",
    )
    assert proc.returncode == 0, proc.stderr
    assert (Path(env["XDG_DATA_HOME"]) / "docker-credential-readystack" / "registries.db").exists()


def test_rows_that_can_never_answer_are_named(run: Run) -> None:
    proc = run("registry", "add", "anon", "--url", "quay.io")
    assert proc.returncode == 0
    assert proc.stderr.decode().splitlines()[0] == (
        "docker-credential-readystack: note: registry 'anon' has no username and no password, "
        "so it never answers; set them with `docker-credential-readystack registry update anon "
        "--username U --password-stdin`"
    )
    proc = run(
        "registry",
        "add",
        "nopw",
        "--url",
        "ghcr.io",
        "--username",
        "me",
        "--password-stdin",
        stdin=b"\n",
    )
    assert proc.stderr.decode().splitlines()[0] == (
        "docker-credential-readystack: note: registry 'nopw' has no password, so it never "
        "answers; set it with `docker-credential-readystack registry update nopw --password-stdin`"
    )
    proc = run("doctor")
    assert proc.returncode == 1
    assert (
        "PROBLEM  row 'anon': no username and no password, so it never answers; set them with "
        "`docker-credential-readystack registry update anon --username U --password-stdin`, "
        "or remove it\n"
    ) in proc.stdout.decode()
    assert (
        "PROBLEM  row 'nopw': no password, so it never answers; set it with "
        "`docker-credential-readystack registry update nopw --password-stdin`, or remove it\n"
    ) in proc.stdout.decode()


def test_update_without_a_change_writes_nothing(run: Run, env: dict[str, str]) -> None:
    add(run, "local", "http://127.0.0.1:5055")
    for args in ((), ("--username", "u"), ("--url", "http://127.0.0.1:5055")):
        proc = run("registry", "update", "local", *args)
        assert (proc.returncode, proc.stdout, proc.stderr) == (
            0,
            b"registry 'local' unchanged: the options given change nothing\n",
            b"",
        )
    with sqlite3.connect(env["READYSTACK_DB"]) as db:
        assert db.execute('SELECT "Version", "UpdatedAt" FROM "Registries"').fetchall() == [
            (1, None)
        ]


def test_an_unknown_first_word_lists_the_verbs_on_stderr(run: Run) -> None:
    proc = run("regsitry", "list")
    assert (proc.returncode, proc.stdout) == (1, USAGE)
    lines = proc.stderr.decode().splitlines()
    assert (
        lines[0]
        == "docker-credential-readystack: unknown verb 'regsitry'; did you mean 'registry'?"
    )
    assert "  registry move-secrets [NAME…] --to keyring|database [--force]" in lines
    assert lines[-1] == "docker-credential-readystack --help explains each one."
    proc = run("reslove", "nginx")
    assert (proc.returncode, proc.stdout) == (1, USAGE)
    assert proc.stderr.decode().splitlines()[0] == (
        "docker-credential-readystack: unknown verb 'reslove'; did you mean 'resolve'?"
    )
    # One unknown word: Docker's own answer on stdout, a hint on stderr.
    proc = run("doctr")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        1,
        NAME + b": unknown action: doctr\n",
        NAME + b": unknown verb 'doctr'; did you mean 'doctor'?\n",
    )
    proc = run("frob")
    assert proc.stderr == NAME + b": unknown verb 'frob'\n"


def test_a_bad_option_shows_that_verbs_usage(run: Run) -> None:
    proc = run("kubelet", "--bogus")
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr.startswith(b"usage: docker-credential-readystack kubelet ")
    assert proc.stderr.endswith(
        b"docker-credential-readystack kubelet: error: unrecognized arguments: --bogus\n"
    )


def test_help_lists_every_verb_of_the_table(run: Run) -> None:
    proc = run("--help")
    assert proc.returncode == 0
    assert b"  registry move-secrets [NAME" in proc.stdout


def test_unbracketed_ipv6_is_that_host(run: Run) -> None:
    add(run, "v6", "https://[::1]")
    proc = run("get", stdin=b"::1")  # what `docker login https://[::1]` sends
    assert (proc.returncode, proc.stdout) == (
        0,
        b'{"ServerURL":"::1","Username":"u","Secret":"pw"}\n',
    )


def test_kubelet_key_keeps_the_spelling_sent_and_the_duration_its_fraction(run: Run) -> None:
    add(run, "ld", "https://localdomain")
    request = json.dumps({**REQUEST, "image": "LOCALDOMAIN/fooo"}).encode()
    for given, answered in (("500ms", "500ms"), ("1.5s", "1.5s"), ("90s", "1m30s")):
        proc = run("kubelet", f"--cache-duration={given}", stdin=request)
        assert proc.returncode == 0, proc.stderr
        response = json.loads(proc.stdout)
        assert response["cacheDuration"] == answered
        assert response["auth"] == {"LOCALDOMAIN": {"username": "u", "password": "pw"}}


def test_a_hub_alias_login_is_kept_under_its_own_name(run: Run, env: dict[str, str]) -> None:
    def login(server: str, user: str) -> None:
        payload = {"ServerURL": server, "Username": user, "Secret": "s"}
        assert run("store", stdin=json.dumps(payload).encode()).returncode == 0

    login("https://index.docker.io/v1/", "hub")
    login("registry-1.docker.io", "alias")
    user = {
        k: json.loads(run("get", stdin=k.encode()).stdout)["Username"]
        for k in ("https://index.docker.io/v1/", "registry-1.docker.io")
    }
    assert user == {"https://index.docker.io/v1/": "hub", "registry-1.docker.io": "alias"}
    proc = run("erase", stdin=b"registry-1.docker.io")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")
    proc = run("get", stdin=b"registry-1.docker.io")  # aliases still fold for get
    assert json.loads(proc.stdout)["Username"] == "hub"


def test_a_database_behind_a_closed_folder_is_named_as_such(
    run: Run, exe: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    closed = tmp_path / "closed"
    closed.mkdir()
    db = closed / "r.db"
    proc = run(
        "registry",
        "add",
        "local",
        "--url",
        "ghcr.io",
        "--db",
        str(db),
        "--username",
        "u",
        "--password-stdin",
        stdin=b"pw",
    )
    assert proc.returncode == 0, proc.stderr
    prefix = _drop_dac(exe)
    closed.chmod(0)
    text = (
        f"this user ({_user()}) may not reach the database {db}: a folder on its path is "
        "closed to them; ask its owner for access, or run as a user who may"
    )
    try:
        env = {**env, "READYSTACK_DB": str(db)}
        done = [
            subprocess.run(
                [*prefix, str(exe), *args],
                input=b"127.0.0.1:5055",
                capture_output=True,
                env=env,
                timeout=30,
            )
            for args in (("get",), ("registry", "list"), ("doctor",))
        ]
    finally:
        closed.chmod(0o700)
    get, listed, doctor = done
    assert (get.returncode, get.stdout, get.stderr.decode()) == (
        1,
        NOT_FOUND,
        f"docker-credential-readystack: skipping the Registries table: {text}\n",
    )
    assert (listed.returncode, listed.stderr.decode()) == (
        1,
        f"docker-credential-readystack: {text}\n",
    )
    assert doctor.returncode == 1 and f"PROBLEM  {text}\n" in doctor.stdout.decode()
