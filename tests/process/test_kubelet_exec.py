"""The kubelet verb run exactly as the kubelet runs it, from the README's provider config."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import Run

yaml = pytest.importorskip("yaml", reason="PyYAML: pip install '.[test]'")
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_provider_config() -> dict:
    """The CredentialProviderConfig shown in the README."""
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)
    configs = [yaml.safe_load(b) for b in blocks]
    found = [c for c in configs if c.get("kind") == "CredentialProviderConfig"]
    assert len(found) == 1, "the README shows one CredentialProviderConfig"
    return found[0]


def exec_like_kubelet(exe: Path, env: dict[str, str], provider: dict, image: str) -> dict:
    """Run the provider: its args, the request on stdin, a 1-minute timeout, env merged."""
    merged = dict(env)
    merged.update({item["name"]: item["value"] for item in provider.get("env", [])})
    request = {
        "apiVersion": provider["apiVersion"],
        "kind": "CredentialProviderRequest",
        "image": image,
    }
    proc = subprocess.run(
        [str(exe), *provider.get("args", [])],
        input=json.dumps(request).encode(),
        capture_output=True,
        env=merged,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    response = json.loads(proc.stdout)
    assert response["apiVersion"] == provider["apiVersion"]  # the kubelet discards others
    assert response["kind"] == "CredentialProviderResponse"
    assert response["cacheKeyType"] in ("Image", "Registry", "Global")
    return response


def test_readme_config_is_valid_for_the_kubelet() -> None:
    config = readme_provider_config()
    assert config["apiVersion"] == "kubelet.config.k8s.io/v1"
    (provider,) = config["providers"]
    assert provider["name"] == "docker-credential-readystack"
    assert provider["matchImages"] and provider["defaultCacheDuration"]
    assert provider["args"][0] == "kubelet"


def test_readme_config_answers_with_pattern_routing(
    exe: Path, env: dict[str, str], run: Run, tmp_path: Path
) -> None:
    provider = readme_provider_config()["providers"][0]
    db = next(e["value"] for e in provider["env"] if e["name"] == "READYSTACK_DB")
    provider["env"] = [{"name": "READYSTACK_DB", "value": str(tmp_path / Path(db).name)}]
    for name, user, pattern in (
        ("acme", "acme-bot", "ghcr.io/acme/**"),
        ("api", "api-bot", "acme/api"),
    ):
        added = run(
            "registry",
            "add",
            name,
            "--url",
            "https://ghcr.io",
            "--username",
            user,
            "--password-stdin",
            "--pattern",
            pattern,
            stdin=b"pw\n",
            READYSTACK_DB=provider["env"][0]["value"],
        )
        assert added.returncode == 0, added.stderr
    api = exec_like_kubelet(exe, env, provider, "ghcr.io/acme/api")
    assert api["cacheKeyType"] == "Image" and api["cacheDuration"] == "5m0s"
    assert api["auth"] == {"ghcr.io/acme/api": {"username": "api-bot", "password": "pw"}}
    web = exec_like_kubelet(exe, env, provider, "ghcr.io/acme/web")
    assert web["auth"]["ghcr.io/acme/web"]["username"] == "acme-bot"
    other = exec_like_kubelet(exe, env, provider, "ghcr.io/other/app")
    assert other["auth"] == {}


def test_bad_request_is_an_error_on_stderr(run: Run) -> None:
    for body in (
        b"{",
        b'{"apiVersion": "v9", "kind": "CredentialProviderRequest", "image": "x/y"}',
    ):
        proc = run("kubelet", stdin=body)
        assert proc.returncode == 1
        assert proc.stdout == b""
        assert proc.stderr.count(b"\n") == 1 and b"Traceback" not in proc.stderr
