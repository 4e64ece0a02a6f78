"""A Docker token server (distribution's token auth spec) for the CNCF registry's `auth: token`.

Stdlib `http.server` plus `cryptography`: RS256 JWTs whose header carries `x5c` (the signing
certificate, which is also the registry's `rootcertbundle`). Grants pull and push per user and
repository prefix; answers 401 to wrong Basic credentials and 400 `invalid_grant` to an unknown
refresh token. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

SERVICE = "readystack-e2e-registry"
ISSUER = "readystack-e2e-token-server"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenServer:
    """Users with passwords, refresh tokens and pull grants by repository prefix."""

    def __init__(self, workdir: Path, users: dict[str, str], grants: dict[str, list[str]]) -> None:
        """Make the signing key and its self-signed certificate under ``workdir``."""
        self.users = users
        self.grants = grants
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user
        self.requests: list[dict[str, str]] = []  # what each token request asked (no secrets)
        self.cert_path = workdir / "token-cert.pem"
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .sign(self._key, hashes.SHA256())
        )
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def realm(self) -> str:
        """The token endpoint, as the registry's challenge names it."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def issue_refresh_token(self, user: str) -> str:
        """A refresh token (identity token) that stands for ``user``."""
        token = "rt-" + secrets.token_urlsafe(24)
        self.refresh_tokens[token] = user
        return token

    def granted(self, user: str | None, scopes: list[str]) -> list[dict[str, object]]:
        """The access claim: for each repository scope, the actions the user's prefixes allow."""
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name or user is None:
                continue
            if any(name == p or name.startswith(p.rstrip("/") + "/") for p in self.grants[user]):
                wanted = [a for a in actions.split(",") if a in ("pull", "push")]
                access.append({"type": "repository", "name": name, "actions": wanted})
        return access

    def mint(self, user: str | None, service: str, access: list[dict[str, object]]) -> str:
        """An RS256 JWT the registry accepts."""
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {
            "iss": ISSUER,
            "sub": user or "",
            "aud": service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)

    def start(self) -> None:
        """Serve on a free port of 127.0.0.1 in a background thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(tokens: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return  # quiet: the tests read `tokens.requests` instead

        def _answer(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _basic_user(self) -> tuple[bool, str | None]:
            """(credentials acceptable, user); no Authorization header is anonymous."""
            header = self.headers.get("Authorization", "")
            if not header:
                return True, None
            if not header.startswith("Basic "):
                return False, None
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return tokens.users.get(user) == password, user

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            ok, user = self._basic_user()
            tokens.requests.append(
                {"method": "GET", "user": user or "", "scope": " ".join(query.get("scope", []))}
            )
            if not ok:
                self._answer(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                return
            service = query.get("service", [""])[0]
            token = tokens.mint(user, service, tokens.granted(user, query.get("scope", [])))
            self._answer(200, {"token": token, "access_token": token, "expires_in": 300})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            grant = form.get("grant_type", [""])[0]
            user = None
            if grant == "refresh_token":
                user = tokens.refresh_tokens.get(form.get("refresh_token", [""])[0])
            elif grant == "password":
                name = form.get("username", [""])[0]
                user = name if tokens.users.get(name) == form.get("password", [""])[0] else None
            tokens.requests.append(
                {"method": "POST", "grant_type": grant, "user": user or "",
                 "client_id": form.get("client_id", [""])[0],
                 "scope": " ".join(form.get("scope", []))}
            )  # fmt: skip
            if user is None:
                self._answer(400, {"error": "invalid_grant"})
                return
            scopes = " ".join(form.get("scope", [])).split()
            service = form.get("service", [""])[0]
            token = tokens.mint(user, service, tokens.granted(user, scopes))
            self._answer(200, {"access_token": token, "expires_in": 300, "scope": " ".join(scopes)})

    return Handler
