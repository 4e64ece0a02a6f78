"""The kubelet image credential provider: CredentialProviderRequest in, Response out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from readystack.helper.lookup import kubelet
from readystack.store.verberrors import KubeletError

V1 = "credentialprovider.kubelet.k8s.io/v1"
V1BETA1 = "credentialprovider.kubelet.k8s.io/v1beta1"

pytestmark = pytest.mark.usefixtures("no_root_config")


def request(image: object, version: str = V1, kind: str = "CredentialProviderRequest") -> bytes:
    return json.dumps({"apiVersion": version, "kind": kind, "image": image}).encode()


def respond(environ: dict, image: str, version: str = V1, cache: str = "5m") -> dict:
    return kubelet.respond(request(image, version), environ, cache)


@pytest.mark.parametrize("version", [V1, V1BETA1])
def test_response_shape_both_versions(rsg: Any, environ: dict, version: str) -> None:
    rsg.add("Ghcr", "https://ghcr.io", username="u", password="p")
    response = respond(environ, "ghcr.io/acme/api", version, cache="1h30m")
    assert response == {
        "apiVersion": version,
        "kind": "CredentialProviderResponse",
        "cacheKeyType": "Registry",
        "cacheDuration": "1h30m0s",
        "auth": {"ghcr.io": {"username": "u", "password": "p"}},
    }
    json.dumps(response)


def test_image_cache_key_when_patterns_route(rsg: Any, environ: dict) -> None:
    rsg.add("Team", "https://ghcr.io", patterns=["team/*"])
    rsg.add("Other", "https://ghcr.io", default=True)
    response = respond(environ, "ghcr.io/team/app")
    assert response["cacheKeyType"] == "Image"
    assert response["auth"] == {"ghcr.io/team/app": {"username": "team", "password": "pw-Team"}}
    response = respond(environ, "ghcr.io/else/app")
    assert response["auth"] == {"ghcr.io/else/app": {"username": "other", "password": "pw-Other"}}


def test_host_wide_pattern_keeps_registry_key(rsg: Any, environ: dict) -> None:
    rsg.add("Wide", "https://ghcr.io", patterns=["ghcr.io/**"])
    response = respond(environ, "ghcr.io/acme/api")
    assert response["cacheKeyType"] == "Registry"
    assert list(response["auth"]) == ["ghcr.io"]


def test_a_hub_image_is_answered_under_its_image_key(rsg: Any, environ: dict) -> None:
    rsg.add("Hub", "https://index.docker.io/v1/", patterns=["nginx"])
    response = respond(environ, "docker.io/library/nginx")
    assert response["cacheKeyType"] == "Image"
    assert response["auth"] == {
        "docker.io/library/nginx": {"username": "hub", "password": "pw-Hub"}
    }
    assert respond(environ, "docker.io/library/redis")["auth"] == {}


def test_bare_image_name_is_hub(rsg: Any, environ: dict) -> None:
    rsg.add("Hub", "https://index.docker.io/v1/")
    assert respond(environ, "nginx")["auth"] == {
        "docker.io": {"username": "hub", "password": "pw-Hub"}
    }


@pytest.mark.parametrize("image", ["ghcr.io/acme/api", "quay.io/x/y"])
def test_an_unknown_image_gets_empty_auth_under_its_registry_key(environ: dict, image: str) -> None:
    response = respond(environ, image, cache="0s")
    assert response["auth"] == {}
    assert response["cacheDuration"] == "0s"
    assert response["cacheKeyType"] == "Registry"


def test_identity_token_rows_skipped(rsg: Any, environ: dict) -> None:
    rsg.add("Tok", "https://ghcr.io", username="<token>", password="idtok", login=True)
    assert respond(environ, "ghcr.io/acme/api")["auth"] == {}
    rsg.add("Plain", "https://ghcr.io", username="u", password="p")
    assert respond(environ, "ghcr.io/acme/api")["auth"] == {
        "ghcr.io": {"username": "u", "password": "p"}
    }


def test_identity_token_from_config_skipped(environ: dict, tmp_path: Any) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"auths": {"ghcr.io": {"identitytoken": "tok"}}}))
    environ["DOCKER__CONFIGPATH"] = str(config)
    assert respond(environ, "ghcr.io/acme/api")["auth"] == {}


@pytest.mark.parametrize(
    "data",
    [
        request("ghcr.io/a/b", version="credentialprovider.kubelet.k8s.io/v2"),
        request("ghcr.io/a/b", version="kubelet.config.k8s.io/v1"),
        json.dumps({"kind": "CredentialProviderRequest", "image": "ghcr.io/a/b"}).encode(),
        request("ghcr.io/a/b", kind="CredentialProviderResponse"),
        request("ghcr.io/a/b", kind=""),
        request(None),
        request(""),
        request("   "),
        request(["ghcr.io/a/b"]),
        json.dumps({"apiVersion": V1, "kind": "CredentialProviderRequest"}).encode(),
        b"{not json",
        b"",
        b"[]",
        b"\xff\xfe",
    ],
)
def test_malformed_requests_are_refused(environ: dict, data: bytes) -> None:
    with pytest.raises(KubeletError):
        kubelet.respond(data, environ, "5m")


@pytest.mark.parametrize("image", ["ghcr.io", "localhost:5000", "Bad/Image", "ghcr.io/Acme/x"])
def test_an_image_that_names_no_repository_is_refused(environ: dict, image: str) -> None:
    with pytest.raises(KubeletError):
        respond(environ, image)


def test_request_with_extra_fields(environ: dict) -> None:
    data = json.dumps(
        {
            "apiVersion": V1,
            "kind": "CredentialProviderRequest",
            "image": " ghcr.io/a/b ",
            "serviceAccountToken": "x",
            "serviceAccountAnnotations": {"k": "v"},
        }
    ).encode()
    assert kubelet.read_request(data) == (V1, "ghcr.io/a/b")


def test_bad_cache_duration_is_an_error(environ: dict) -> None:
    with pytest.raises(KubeletError):
        respond(environ, "ghcr.io/a/b", cache="forever")


def test_registry_key_is_the_image_host_as_sent(rsg: Any, environ: dict) -> None:
    rsg.add("Hub", "https://index.docker.io/v1/")
    response = respond(environ, "registry-1.docker.io/library/nginx")
    assert response["cacheKeyType"] == "Registry"
    assert list(response["auth"]) == ["registry-1.docker.io"]


def test_broken_database_falls_back_to_config(environ: dict, tmp_path: Any) -> None:
    db = tmp_path / "data" / "registries.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not a SQLite database " * 40)
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"auths": {"ghcr.io": {"username": "u", "password": "p"}}}))
    environ["DOCKER__CONFIGPATH"] = str(config)
    response = respond(environ, "ghcr.io/acme/api")
    # Unreadable table: patterns could not be checked, so the answer is cached per image.
    assert response["cacheKeyType"] == "Image"
    assert response["auth"] == {"ghcr.io/acme/api": {"username": "u", "password": "p"}}


@pytest.mark.parametrize(
    ("cache", "written"),
    [
        ("5m", "5m0s"),
        ("+5m", "5m0s"),
        ("1.1\u03bcs", "1.1\u00b5s"),
        ("0", "0s"),
        ("100h", "100h0m0s"),
    ],
)
def test_cache_duration_is_written_as_go_writes_it(
    rsg: Any, environ: dict, cache: str, written: str
) -> None:
    assert respond(environ, "ghcr.io/a/b", cache=cache)["cacheDuration"] == written
