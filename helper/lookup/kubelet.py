"""The kubelet image credential provider: a CredentialProviderRequest in, a Response out."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping

from readystack.store import hosts, paths, registries
from readystack.store.conventions import NAME
from readystack.store.errors import DatabaseError, TargetError
from readystack.store.jsonread import BadJSON, read_json
from readystack.store.verberrors import DurationError, KubeletError

from . import target as targets
from .resolver import compile_row

API_GROUP = "credentialprovider.kubelet.k8s.io"
API_VERSIONS = (f"{API_GROUP}/v1", f"{API_GROUP}/v1beta1")


def cache_duration(text: str) -> str:
    """``--cache-duration`` as the response writes it: Go's Duration.String of Go's parse."""
    from . import goduration

    try:
        return goduration.string(goduration.parse(text))
    except DurationError as exc:
        raise KubeletError(f"--cache-duration: {exc}") from None


def read_request(data: bytes) -> tuple[str, str]:
    """(apiVersion, image) from a CredentialProviderRequest, validated."""
    try:
        request = read_json(data.decode("utf-8"))
    except (UnicodeDecodeError, BadJSON) as exc:
        nested = isinstance(exc, BadJSON) and exc.nested
        raise KubeletError(f"the request is {'' if nested else 'not JSON: '}{exc}") from None
    if not isinstance(request, dict):
        raise KubeletError("the request is not a JSON object")
    version = request.get("apiVersion")
    if version not in API_VERSIONS:
        raise KubeletError(
            f"unsupported apiVersion {version!r}; expected one of {', '.join(API_VERSIONS)}"
        )
    if request.get("kind") != "CredentialProviderRequest":
        raise KubeletError(
            f"unexpected kind {request.get('kind')!r}; expected CredentialProviderRequest"
        )
    image = request.get("image")
    if not isinstance(image, str) or not image.strip():
        raise KubeletError("the request has no image")
    return version, image.strip()


def image_independent(db_path: str, host: str) -> bool:
    """True when no pattern on ``host`` could route one image differently from another."""
    try:
        db = registries.open_read(db_path)
        if db is None:
            return True
        try:
            rows = db.rows_for_host(host)
        finally:
            db.close()
    except (DatabaseError, OSError):
        return False  # the table could not be read: the per-image key is the safe answer
    for row in rows:
        if row.has_credentials and any(not p.host_wide for p in compile_row(row)):
            return False
    return True


def respond(data: bytes, environ: Mapping[str, str], cache: str) -> dict:
    """The CredentialProviderResponse for one request."""
    from .resolver import resolve

    duration = cache_duration(cache)
    version, image = read_request(data)
    try:
        target = targets.parse(image, bare_name_is_image=True)
    except TargetError as exc:
        raise KubeletError(f"invalid image {image!r}: {exc}") from None
    if target.kind != targets.REPOSITORY:
        raise KubeletError(f"{image!r} is a registry host, not an image")
    db_path = paths.database_path(environ)[0]
    answer = resolve(target, environ, db_path, skip_tokens=True)
    per_registry = image_independent(db_path, target.host)
    # The kubelet matches auth keys case-sensitively against the image as it sent it
    # (k8s.io/kubernetes pkg/credentialprovider keyring.go: URLsMatch compares the parsed hosts
    # with filepath.Match), so the key keeps its spelling of the host. Whether the first
    # component is a host is the reference grammar's call, already made by `targets.parse`:
    # distribution's splitDockerDomain also takes an uppercase first component as a host.
    first, slash, _ = image.partition("/")
    as_sent = bool(slash) and hosts.canonical(first) == target.host
    key = (first if as_sent else target.host) if per_registry else image
    auth = {}
    if answer is not None:
        auth[key] = {"username": answer.username, "password": answer.secret}
    return {
        "apiVersion": version,
        "kind": "CredentialProviderResponse",
        "cacheKeyType": "Registry" if per_registry else "Image",
        "cacheDuration": duration,
        "auth": auth,
    }


def run(ns: argparse.Namespace) -> int:
    """The kubelet verb: request on stdin, response on stdout, errors on stderr."""
    environ = {**ns.environ, "READYSTACK_DB": ns.db} if ns.db else ns.environ
    try:
        if sys.stdin is None:  # closed (`<&-`)
            raise KubeletError("stdin is closed; the kubelet sends its request there")
        response = respond(sys.stdin.buffer.read(1 << 20), environ, ns.cache_duration)
    except KubeletError as exc:
        sys.stderr.write(f"{NAME} kubelet: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(response) + "\n")
    return 0
