"""One registry check, as `docker login` does it, and with an image as `docker pull` starts.

`GET /v2/`; a `Basic` challenge is answered with the credentials; a `Bearer` challenge with a
token from its realm, asked with Basic credentials (distribution's fetchTokenWithBasicAuth) or,
for an identity token, with an OAuth2 refresh-token grant (fetchTokenWithOAuth, client_id
`docker` as moby's registry.AuthClientID), both in distribution's internal/client/auth/session.go.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping
from urllib.parse import urlencode, urlsplit

from readystack.store import hosts
from readystack.store.conventions import TOKEN_USERNAME
from readystack.store.errors import HostError
from readystack.store.jsonread import BadJSON, read_json
from readystack.store.verberrors import ChallengeError, Verdict

from . import insecure
from .challenge import Challenge, parse_headers
from .regtransport import ERROR, TLS, UNREACHABLE, Response, Transport

OK = "ok"
UNAUTHORIZED = "unauthorized"
DENIED = "denied"
NOT_FOUND = "not-found"
STATUSES = (OK, UNAUTHORIZED, DENIED, NOT_FOUND, UNREACHABLE, TLS, ERROR)
DEFAULT_TIMEOUT = 10.0
# Docker Hub's registry answers under this name (moby: registry.DefaultV2Registry).
HUB_REGISTRY = "registry-1.docker.io"
# What `docker pull` accepts; without an Accept header some registries answer 400.
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)
CLIENT_ID = "docker"
# How long past its timeout a check may take before it is abandoned (see check()).
DEADLINE_SLACK = 0.25


class Image:
    """The repository and tag or digest `--image` names."""

    __slots__ = ("host", "path", "reference")

    def __init__(self, host: str, path: str, reference: str) -> None:
        self.host = host
        self.path = path
        self.reference = reference

    def __str__(self) -> str:
        sep = "@" if ":" in self.reference else ":"
        return f"{self.path}{sep}{self.reference}"


def endpoint(url: str) -> tuple[str, str]:
    """(base URL, host) of a row's registry: its scheme (https when none) and host[:port]."""
    host = hosts.host_of_url(url)
    scheme = urlsplit(url.strip()).scheme.lower() if "://" in url else "https"
    netloc = HUB_REGISTRY if hosts.is_hub(host) else host
    return f"{scheme}://{netloc}", host


def check(
    url: str,
    username: str,
    secret: str,
    image: Image | None,
    environ: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[str, str]:
    """Check one row's credentials (and pull access to ``image``): (status, detail).

    The one wall-clock deadline of `registry test`, `doctor --online` and `explain --online`:
    urllib3's timeouts bound each socket read, so a server that drips one byte a second would
    never trip them. The check runs in a daemon thread; past the deadline it is abandoned (the
    process ends without waiting for it) and reported unreachable.
    """
    outcome: list[tuple[str, str]] = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(_check(url, username, secret, image, environ, timeout))
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            failed.append(exc)

    worker = threading.Thread(target=work, daemon=True, name="registry-check")
    worker.start()
    # The transport's own timeouts end at the deadline too; the slack lets their more precise
    # verdict (which host, connect or read) win when they fire.
    worker.join(timeout + DEADLINE_SLACK)
    if failed:
        raise failed[0]
    if outcome:
        return outcome[0]
    return UNREACHABLE, f"no answer within {timeout:g} s"


def _check(
    url: str,
    username: str,
    secret: str,
    image: Image | None,
    environ: Mapping[str, str],
    timeout: float,
) -> tuple[str, str]:
    try:
        base, host = endpoint(url)
    except HostError as exc:
        return ERROR, f"the URL names no registry: {exc}"
    transport = Transport(host, environ, timeout)
    hidden: list[str] = []

    def attempt(at: str) -> tuple[str, str]:
        return _attempt(transport, at, host, username, secret, image, hidden)

    try:
        status, detail = attempt(base)
        reason = insecure.plain_http_reason(host, environ) if base.startswith("https:") else None
        if reason is not None:
            plain = "http://" + base.split("://", 1)[1]
            status, detail = _over_plain_http((status, detail), reason, lambda: attempt(plain))
    finally:
        transport.close()
    for hidden_text in hidden:
        if len(hidden_text) >= 4:  # belt and braces: no detail is built from a secret or token
            detail = detail.replace(hidden_text, "<hidden>")
    return status, detail


# What https:// may answer that sends dockerd on to http:// for an insecure registry: anything
# but the registry's own verdict on the credentials or the image (moby: registry.Auth and
# loginV2 go on to the next endpoint unless the credentials were refused).
_NEXT_ENDPOINT = (TLS, UNREACHABLE, ERROR)


def _attempt(
    transport: Transport,
    base: str,
    host: str,
    username: str,
    secret: str,
    image: Image | None,
    hidden: list[str],
) -> tuple[str, str]:
    """One check against ``base``: (status, detail); the secrets it saw are added to hidden."""
    steps = _Check(transport, base, host, username, secret)
    try:
        return steps.run(image)
    except Verdict as verdict:
        return verdict.status, verdict.detail
    finally:
        hidden.extend(steps.hidden)


def _over_plain_http(
    https: tuple[str, str], reason: str, attempt_http: Callable[[], tuple[str, str]]
) -> tuple[str, str]:
    """For a registry dockerd lets fall back: https's answer, else http's; saying which."""
    status, detail = https
    if status not in _NEXT_ENDPOINT:
        return status, f"{detail} (over https://)"
    status2, detail2 = attempt_http()
    if status2 in _NEXT_ENDPOINT:
        too = "the same way" if detail2 == detail else f"too: {detail2}"
        return status, f"{detail} (plain http://, which dockerd allows as {reason}, failed {too})"
    return (
        status2,
        f"{detail2} (over plain http://: https:// failed, and dockerd allows plain HTTP as "
        f"{reason})",
    )


class _Check:
    """The steps of one check; each step raises Verdict when it decides the outcome."""

    def __init__(
        self, transport: Transport, base: str, host: str, username: str, secret: str
    ) -> None:
        self.t = transport
        self.base = base
        self.host = host
        self.username = username
        self.secret = secret
        self.is_token = username == TOKEN_USERNAME
        # No credentials at all: what an anonymous `docker pull` gets.
        self.anonymous = not username and not secret
        self.hidden = [secret] if secret else []

    def run(self, image: Image | None) -> tuple[str, str]:
        ping = self.t.request("GET", f"{self.base}/v2/")
        if ping.status == 200:
            if image is None:
                return OK, "the registry answers without credentials (nothing to check)"
            return self._manifest(image, {})
        if ping.status != 401:
            raise Verdict(ERROR, f"GET /v2/ answered HTTP {ping.status}: not a registry?")
        challenge = self._challenge(ping.header_list("WWW-Authenticate"))
        auth = self._authorization(challenge, None)
        answer = self.t.request("GET", f"{self.base}/v2/", auth)
        if answer.status in (401, 403):
            what = "token" if challenge.scheme == "bearer" else "credentials"
            if self.anonymous:
                raise Verdict(UNAUTHORIZED, "the registry refuses anonymous access")
            raise Verdict(UNAUTHORIZED, f"the registry refused the {what} (HTTP {answer.status})")
        if answer.status != 200:
            raise Verdict(ERROR, f"GET /v2/ with credentials answered HTTP {answer.status}")
        if image is None:
            how = "a token from its realm" if challenge.scheme == "bearer" else "Basic"
            return OK, f"the registry accepted the credentials ({how})"
        if challenge.scheme == "bearer":
            auth = self._authorization(challenge, f"repository:{image.path}:pull")
        return self._manifest(image, auth)

    def _challenge(self, values: list[str]) -> Challenge:
        try:
            challenges = parse_headers(values)
        except ChallengeError as exc:
            raise Verdict(ERROR, f"malformed WWW-Authenticate: {exc}") from None
        for scheme in ("bearer", "basic"):  # distribution tries the token handler first
            for challenge in challenges:
                if challenge.scheme == scheme:
                    return challenge
        schemes = ", ".join(c.scheme for c in challenges) or "none"
        raise Verdict(ERROR, f"401 without a Basic or Bearer challenge (schemes: {schemes})")

    def _authorization(self, challenge: Challenge, scope: str | None) -> dict[str, str]:
        if challenge.scheme == "basic":
            if self.anonymous:
                raise Verdict(UNAUTHORIZED, "the registry asks for credentials")
            if self.is_token:
                raise Verdict(
                    UNAUTHORIZED, "the registry asks for Basic credentials, not an identity token"
                )
            return {"Authorization": basic(self.username, self.secret)}
        return {"Authorization": f"Bearer {self._token(challenge, scope)}"}

    def _token(self, challenge: Challenge, scope: str | None) -> str:
        realm = challenge.params.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Verdict(ERROR, f"the Bearer challenge has no usable realm ({realm!r})")
        if parts.scheme == "http" and self.base.startswith("https:"):
            raise Verdict(
                ERROR,
                f"the token realm {realm} is plain HTTP but the registry's URL says https://: "
                "credentials are not sent there",
            )
        service = challenge.params.get("service", "")
        if self.is_token:
            form = {"grant_type": "refresh_token", "refresh_token": self.secret}
            form.update(service=service, client_id=CLIENT_ID)
            if scope:
                form["scope"] = scope
            answer = self.t.request(
                "POST",
                realm,
                {"Content-Type": "application/x-www-form-urlencoded"},
                urlencode(form),
            )
        else:
            query = {"service": service} if service else {}
            if scope:
                query["scope"] = scope
            else:  # docker login asks for an offline token (moby registry.loginV2)
                query.update(offline_token="true", client_id=CLIENT_ID)
            auth = {}
            if not self.anonymous:
                query["account"] = self.username
                auth["Authorization"] = basic(self.username, self.secret)
            sep = "&" if parts.query else "?"
            answer = self.t.request("GET", f"{realm}{sep}{urlencode(query)}", auth)
        return self._token_from(answer, parts.netloc)

    def _token_from(self, answer: Response, realm_host: str) -> str:
        status = answer.status
        if status in (400, 401, 403):
            what = "identity token" if self.is_token else "credentials"
            detail = f"the token service at {realm_host} refused the {what} (HTTP {status})"
            raise Verdict(UNAUTHORIZED, detail)
        if status != 200:
            raise Verdict(ERROR, f"the token service at {realm_host} answered HTTP {status}")
        try:
            data = read_json(answer.body)
        except BadJSON:
            data = None
        # `access_token` wins over `token` when both are there, as in distribution.
        token = (data.get("access_token") or data.get("token")) if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise Verdict(ERROR, f"the token service at {realm_host} answered no token")
        self.hidden.append(token)
        return token

    def _manifest(self, image: Image, auth: Mapping[str, str]) -> tuple[str, str]:
        url = f"{self.base}/v2/{image.path}/manifests/{image.reference}"
        answer = self.t.request("HEAD", url, {**auth, "Accept": MANIFEST_ACCEPT})
        if answer.status == 200:
            return OK, f"{image} can be pulled with these credentials"
        if answer.status == 404:
            return NOT_FOUND, f"{image} does not exist in the registry"
        if answer.status == 401 and _bearer_error(answer) == "invalid_token":
            return UNAUTHORIZED, "the registry refused the token for the image"
        if answer.status in (401, 403):
            who = "anonymous access" if self.anonymous else "the credentials are valid but"
            detail = f"{who} may not pull {image.path}"
            if hosts.is_hub(self.host):
                detail += " (Docker Hub answers the same when the image does not exist)"
            return DENIED, detail
        return ERROR, f"HEAD of the manifest of {image} answered HTTP {answer.status}"


def _bearer_error(answer: Response) -> str:
    """The `error` parameter of a Bearer challenge (RFC 6750 section 3), if any."""
    try:
        challenges = parse_headers(answer.header_list("WWW-Authenticate"))
    except ChallengeError:
        return ""
    return next((c.params.get("error", "") for c in challenges if c.scheme == "bearer"), "")


def basic(username: str, password: str) -> str:
    """An HTTP Basic Authorization value."""
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
