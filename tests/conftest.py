"""Shared fixtures: tests never touch the real network or the developer's AWS config (STYLE.md rule 10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_aws_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy credentials, no AWS config files, a temp home and state dir for every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    yield


@pytest.fixture
def repo_root() -> Path:
    """The checkout's top folder, for tests that read example files."""
    return Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- embedded lab (issue 3)

LAB_SEED = 7
"""Fixed seed of the shared session lab: repeatable ids and randomness."""


@pytest.fixture(scope="session")
def lab_handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One demo-scale lab child for the whole session: fixed seed, traffic off, 1-2 s propagation windows."""
    import os

    from vpce_console.lab.child import start_lab_child

    home = tmp_path_factory.mktemp("lab-home")
    saved = {k: os.environ.get(k) for k in ("HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
    os.environ.update({"HOME": str(home), "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    try:
        handle = start_lab_child(scale="demo", seed=LAB_SEED, propagation="1:2", traffic=0)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def lab_ready(lab_handle: object) -> dict[str, object]:
    """The shared lab's ready-file dict (endpoint_url, hub, operator, personas, seeded_faults, ...)."""
    return lab_handle.ready  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def lab_factory() -> Iterator[object]:
    """Start extra labs for tests that need their own (options as `start_lab_child`); stopped after the test."""
    from vpce_console.lab.child import start_lab_child

    handles: list[object] = []

    def start(**options: object) -> object:
        options.setdefault("traffic", 0)
        handle = start_lab_child(**options)  # type: ignore[arg-type]
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        handle.stop()  # type: ignore[attr-defined]
