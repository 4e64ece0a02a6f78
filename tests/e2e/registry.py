"""A CNCF distribution registry (`docker-registry`) with htpasswd auth, on 127.0.0.1 only."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import ssl
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .tools import free_port, stop_process

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_V1 = "application/vnd.docker.container.image.v1+json"
LAYER_TGZ = "application/vnd.docker.image.rootfs.diff.tar.gzip"
# At debug level every repository request logs lines carrying `auth.user.name=alice` (the info
# level only names the user on errors), with `http.request.uri=...` and `http.request.id=...`.
_USER = re.compile(r'auth\.user\.name="?(?P<user>[^" ]+)"?')
_URI = re.compile(r'http\.request\.uri="?(?P<uri>[^" ]*)"?')
_REQUEST_ID = re.compile(r"http\.request\.id=(?P<id>[0-9a-f-]+)")

Response = tuple[int, dict[str, str], bytes]


def basic_auth(username: str, password: str) -> str:
    """Build an HTTP Basic `Authorization` header value."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _digest(data: bytes) -> str:
    """Content digest as the registry spells it."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tiny_image() -> tuple[bytes, bytes, bytes]:
    """Build a one-file, one-layer image: (layer tar.gz, config JSON, schema2 manifest JSON)."""
    payload = b"readystack e2e\n"
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("e2e.txt")
        info.size, info.mtime, info.mode = len(payload), 0, 0o644
        tar.addfile(info, io.BytesIO(payload))
    layer_tar = tar_buffer.getvalue()
    layer = gzip.compress(layer_tar, mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/e2e.txt"]},
            "rootfs": {"type": "layers", "diff_ids": [_digest(layer_tar)]},
            "history": [{"created_by": "readystack e2e seed"}],
        },
        separators=(",", ":"),
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {"mediaType": CONFIG_V1, "size": len(config), "digest": _digest(config)},
            "layers": [{"mediaType": LAYER_TGZ, "size": len(layer), "digest": _digest(layer)}],
        },
        separators=(",", ":"),
    ).encode()
    return layer, config, manifest


class Registry:
    """One `docker-registry serve` process with htpasswd users, logging to a file."""

    def __init__(
        self,
        workdir: Path,
        users: dict[str, str],
        htpasswd: str,
        binary: str,
        *,
        auth_config: str | None = None,
        tls: tuple[Path, Path] | None = None,
        client: tuple[Path, Path] | None = None,
    ) -> None:
        """Prepare (but do not start) a registry living under `workdir`.

        ``auth_config`` replaces the htpasswd `auth:` section (e.g. `{token: {...}}`);
        ``tls`` is (certificate, key) to serve HTTPS with; ``client`` a self-signed client
        (certificate, key): the registry then requires it (`clientcas`), and so presents it.
        """
        self.workdir = workdir
        self.users = users
        self.port = 0
        self.log_path = workdir / "registry.log"
        self._htpasswd = htpasswd
        self._binary = binary
        self._auth_config = auth_config
        self._tls = tls
        self._client = client
        self._context = ssl.create_default_context(cafile=str(tls[0])) if tls else None
        if self._context and client:
            self._context.load_cert_chain(str(client[0]), str(client[1]))
        self._proc: subprocess.Popen[bytes] | None = None
        # How seed() authenticates for a repository: Basic for the first user unless replaced
        # (a token registry's fixture sets a Bearer token minted for push).
        first = next(iter(users.items()))
        self.authorization: Callable[[str], str] = lambda _repo: basic_auth(*first)

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the name clients use for this registry."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT` (https with TLS), the way ReadyStackGo stores the URL."""
        return f"{'https' if self._tls else 'http'}://{self.host}"

    def start(self) -> None:
        """Write the config and htpasswd, start the server and wait until /v2/ answers 401."""
        lines = []
        for user, password in self.users.items():
            out = subprocess.run(
                [self._htpasswd, "-Bbn", user, password],
                check=True,
                capture_output=True,
                text=True,
                timeout=30,
            )
            lines.append(out.stdout.strip())
        (self.workdir / "htpasswd").write_text("\n".join(lines) + "\n")
        for _attempt in range(3):  # the port may be taken between picking and binding it
            self.port = free_port()
            (self.workdir / "config.yml").write_text(self._config())
            with self.log_path.open("ab") as log:
                self._proc = subprocess.Popen(
                    [self._binary, "serve", str(self.workdir / "config.yml")],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"docker-registry did not start:\n{self.log_text()[-3000:]}")

    def _config(self) -> str:
        """The registry's YAML configuration (inmemory storage, info log, htpasswd auth)."""
        auth = self._auth_config or (
            f"{{htpasswd: {{realm: readystack-e2e, path: '{self.workdir / 'htpasswd'}'}}}}"
        )
        tls = ""
        if self._tls:
            cas = f", clientcas: ['{self._client[0]}']" if self._client else ""
            tls = f", tls: {{certificate: '{self._tls[0]}', key: '{self._tls[1]}'{cas}}}"
        return (
            "version: 0.1\n"
            "log: {level: debug, formatter: text}\n"
            "storage: {inmemory: {}, maintenance: {uploadpurging: {enabled: false}}}\n"
            f"http: {{addr: '{self.host}', secret: readystack-e2e-not-a-secret{tls}}}\n"
            f"auth: {auth}\n"
        )

    def _wait_ready(self, timeout: float = 15.0) -> bool:
        """Poll /v2/ until it answers 401; False when the process died or time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                return False
            try:
                status, _, _ = self.request("GET", "/v2/", timeout=1.0)
            except OSError:
                status = 0
            if status == 401:
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Stop the server process by its PID."""
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: tuple[str, str] | str | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> Response:
        """Send one HTTP request to the registry; returns (status, headers, body), never raises."""
        url = path if path.startswith("http") else self.url + path
        all_headers = dict(headers or {})
        if auth is not None:
            all_headers["Authorization"] = auth if isinstance(auth, str) else basic_auth(*auth)
        req = urllib.request.Request(url, data=body, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self._context) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def _upload_blob(self, repo: str, blob: bytes, auth: tuple[str, str] | str) -> None:
        """Upload one blob (monolithic POST + PUT) unless the repository already has it."""
        digest = _digest(blob)
        status, _, _ = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", auth=auth)
        if status == 200:
            return
        status, headers, body = self.request("POST", f"/v2/{repo}/blobs/uploads/", auth=auth)
        if status != 202:
            raise RuntimeError(f"blob upload start: {status} {body!r}")
        location = headers["Location"]
        separator = "&" if "?" in location else "?"
        status, _, body = self.request(
            "PUT",
            f"{location}{separator}digest={digest}",
            auth=auth,
            body=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        if status != 201:
            raise RuntimeError(f"blob upload: {status} {body!r}")

    def seed(self, repo: str, tag: str = "1") -> str:
        """Push the tiny image to `repo:tag` through the HTTP API; returns the manifest digest."""
        auth = self.authorization(repo)
        layer, config, manifest = tiny_image()
        self._upload_blob(repo, layer, auth)
        self._upload_blob(repo, config, auth)
        status, headers, body = self.request(
            "PUT",
            f"/v2/{repo}/manifests/{tag}",
            auth=auth,
            body=manifest,
            headers={"Content-Type": MANIFEST_V2},
        )
        if status != 201:
            raise RuntimeError(f"manifest upload: {status} {body!r}")
        return headers.get("Docker-Content-Digest", _digest(manifest))

    def get_manifest(self, repo: str, tag: str, auth: tuple[str, str] | None) -> int:
        """GET a manifest (as a crane-style tool would) and return the HTTP status."""
        status, _, _ = self.request(
            "GET", f"/v2/{repo}/manifests/{tag}", auth=auth, headers={"Accept": MANIFEST_V2}
        )
        return status

    def log_mark(self) -> int:
        """Current size of the log, to read only what a test caused."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_text(self, since: int = 0) -> str:
        """The registry log from byte offset `since`."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            return log.read().decode("utf-8", "replace")

    def authorized(self, since: int = 0) -> list[tuple[str, str]]:
        """(user, request URI) of every request the registry authenticated since the mark."""
        seen: dict[str, tuple[str, str]] = {}
        for line in self.log_text(since).splitlines():
            user, uri, request = _USER.search(line), _URI.search(line), _REQUEST_ID.search(line)
            if user and request and request.group("id") not in seen:
                seen[request.group("id")] = (user.group("user"), uri.group("uri") if uri else "")
        return list(seen.values())

    def users_seen(self, since: int = 0) -> set[str]:
        """Users the registry authenticated since the mark."""
        return {user for user, _ in self.authorized(since)}
