"""HTTP for `registry test`: TLS as Docker sets it up, proxies, one deadline, named failures.

Built on urllib3 (imported only by the verbs that check registries, never by `get`): it takes an
`ssl.SSLContext` per connection pool and reports each failure as its own exception class, so DNS,
connect, timeout and certificate problems are told apart without parsing messages.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
from collections.abc import Mapping
from urllib.parse import urlsplit
from urllib.request import proxy_bypass_environment

import urllib3
from readystack.store.diag import debug
from readystack.store.verberrors import Verdict
from urllib3 import exceptions as u3

# Docker's per-registry certificate folders (docker/cli and moby: registry.CertsDir).
CERTS_D = "/etc/docker/certs.d"
# Test hook: another root for the per-registry certificate folders (see the README).
CERTS_D_ENV = "READYSTACK_CERTS_D"
# Bodies are small (a token, an error); a registry that sends more is not read further.
MAX_BODY = 1 << 20

UNREACHABLE = "unreachable"
TLS = "tls"
ERROR = "error"


class Response:
    """Status, headers and (at most MAX_BODY bytes of) body of one answer."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: urllib3.HTTPHeaderDict, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header_list(self, name: str) -> list[str]:
        """Every value of a header that may be repeated (WWW-Authenticate)."""
        return self.headers.getlist(name)


def certs_folder(host: str, environ: Mapping[str, str]) -> str:
    """The certs.d folder Docker reads for ``host[:port]``."""
    return os.path.join(environ.get(CERTS_D_ENV) or CERTS_D, host)


def tls_context(host: str, environ: Mapping[str, str]) -> ssl.SSLContext:
    """The system trust store plus the host's certs.d CAs (`*.crt`) and client certificate.

    As moby's registry.ReadCertsDirectory: every `*.crt` is a CA; `client.cert` with
    `client.key` is the client certificate. Raises Verdict(tls) when a file cannot be used.
    Loading the system store costs ~80 ms of CPU: one context serves every check of the
    process that has the same certs.d folder (or none), so 32 rows pay for it once.
    """
    folder = certs_folder(host, environ)
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        names = []
    except OSError as exc:
        raise Verdict(TLS, f"cannot read {folder}: {exc.strerror}") from None
    key = folder if names else ""
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(key)
        if context is None:
            context = _CONTEXTS[key] = _load(folder, names)
    return context


_CONTEXTS: dict[str, ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def _load(folder: str, names: list[str]) -> ssl.SSLContext:
    context = ssl.create_default_context()
    for name in names:
        path = os.path.join(folder, name)
        try:
            if name.endswith(".crt"):
                context.load_verify_locations(cafile=path)
            elif name == "client.cert":
                key = os.path.join(folder, "client.key")
                if not os.path.exists(key):
                    raise Verdict(TLS, f"{path} has no client.key beside it")
                context.load_cert_chain(path, key)
        except (ssl.SSLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or "unusable"
            raise Verdict(TLS, f"cannot use {path}: {reason}") from None
    return context


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy for ``url`` from HTTPS_PROXY/HTTP_PROXY (any case) unless NO_PROXY excludes it."""
    proxies: dict[str, str] = {}
    # As urllib.request.getproxies_environment: upper-case first, then lower-case wins.
    for name, value in sorted(environ.items(), key=lambda item: item[0].islower()):
        if value and len(name) > 6 and name[-6:].lower() == "_proxy":
            proxies[name[:-6].lower()] = value
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme)
    if not proxy or proxy_bypass_environment(parts.netloc, proxies):
        return None
    return proxy


class Transport:
    """Requests for one registry check: one TLS context, pools per proxy, one deadline."""

    def __init__(self, host: str, environ: Mapping[str, str], timeout: float) -> None:
        self.host = host
        self.environ = environ
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self._pools: dict[tuple[str | None, bool], urllib3.PoolManager] = {}

    def _pool(self, url: str, proxy: str | None) -> urllib3.PoolManager:
        secure = url.startswith("https:") or (proxy or "").startswith("https:")
        pool = self._pools.get((proxy, secure))
        if pool is None:
            options: dict[str, object] = {"retries": False, "maxsize": 2}
            if secure:
                # As moby, the registry's TLS settings serve its token realm as well.
                options["ssl_context"] = tls_context(self.host, self.environ)
            if proxy is None:
                pool = urllib3.PoolManager(**options)
            else:
                auth = urllib3.util.parse_url(proxy).auth
                headers = urllib3.make_headers(proxy_basic_auth=auth) if auth else None
                pool = urllib3.ProxyManager(proxy, proxy_headers=headers, **options)
            self._pools[proxy, secure] = pool
        return pool

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> Response:
        """One request within what is left of the deadline; raises Verdict when it fails."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise Verdict(UNREACHABLE, f"no answer within {self.timeout:g} s")
        target = urlsplit(url).netloc
        proxy = proxy_for(url, self.environ)
        try:
            answer = self._pool(url, proxy).request(
                method,
                url,
                headers=dict(headers or {}),
                body=body,
                redirect=False,
                preload_content=False,
                timeout=urllib3.Timeout(total=remaining),
            )
            data = b""
            try:
                data = answer.read(MAX_BODY)
            finally:
                if len(data) >= MAX_BODY:
                    answer.close()  # bytes are left on the connection: never reuse it
                answer.release_conn()
        except u3.HTTPError as exc:
            verdict = failure(exc, target, self.timeout)
            debug(f"registry test: {method} {_shown(url)}: {verdict.status}: {verdict.detail}")
            if proxy and verdict.status == UNREACHABLE and "proxy" not in verdict.detail:
                verdict.detail += f" (through the proxy {_host_port(proxy)})"
            raise verdict from None
        debug(f"registry test: {method} {_shown(url)}: HTTP {answer.status}")
        return Response(answer.status, answer.headers, data)

    def close(self) -> None:
        """Close every pooled connection."""
        for pool in self._pools.values():
            pool.clear()


def failure(exc: BaseException, target: str, timeout: float) -> Verdict:
    """What an urllib3 failure means for a person: unreachable, tls or error, and why."""
    verify = _find(exc, ssl.SSLCertVerificationError)
    if verify is not None:
        return Verdict(TLS, f"certificate of {target} not trusted: {verify.verify_message}")
    if isinstance(exc, u3.ProxyError):
        return Verdict(UNREACHABLE, f"the proxy failed for {target}: {_reason(exc)}")
    tls = _find(exc, ssl.SSLError)  # exc itself when it is one
    if tls is not None or isinstance(exc, u3.SSLError):
        reason = getattr(tls, "reason", None) or "handshake failed"
        hint = ""
        if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"):
            hint = " (a plain-HTTP server? the URL says https://)"
        elif "CERTIFICATE_REQUIRED" in reason or "BAD_CERTIFICATE" in reason:
            hint = " (the registry wants a client certificate: client.cert and client.key)"
        return Verdict(TLS, f"TLS with {target} failed: {reason}{hint}")
    if isinstance(exc, u3.NameResolutionError):
        return Verdict(UNREACHABLE, f"cannot resolve {target.rsplit(':', 1)[0]}")
    # Before the timeouts: urllib3 2 derives NewConnectionError from ConnectTimeoutError.
    if isinstance(exc, (u3.NewConnectionError, u3.ProtocolError)):
        return Verdict(UNREACHABLE, f"cannot connect to {target}: {_reason(exc)}")
    if isinstance(exc, (u3.ConnectTimeoutError, u3.ReadTimeoutError, u3.TimeoutError)):
        return Verdict(UNREACHABLE, f"no answer from {target} within {timeout:g} s")
    # Never the exception's text (it may quote a URL) nor its class name (no Python for users).
    return Verdict(ERROR, f"request to {target} failed without an HTTP answer")


def _find(exc: BaseException | None, kind: type) -> BaseException | None:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return exc
        nested = [a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)]
        exc = exc.__cause__ or exc.__context__ or (nested[0] if nested else None)
        seen += 1
    return None


def _reason(exc: BaseException) -> str:
    """The OS's words (`Connection refused`), never a URL that could carry a query."""
    found = _find(exc, OSError)
    if found is not None and getattr(found, "strerror", None):
        return str(found.strerror)
    return "the connection failed, and the system gave no reason"


def _host_port(url: str) -> str:
    """host[:port] of a URL, without the user information a proxy URL may carry."""
    return urlsplit(url).netloc.rpartition("@")[2]


def _shown(url: str) -> str:
    """A URL for the debug log: scheme, host and path; never the query (it names the account)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
