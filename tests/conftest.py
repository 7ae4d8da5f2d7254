"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The real public data beside the checkout (../shared/data), or CUSTOMSLAB_SHARED_DATA."""
    configured = os.environ.get("CUSTOMSLAB_SHARED_DATA")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        # Fail, never skip: tests on real data are part of the suite.
        raise RuntimeError(f"shared data not found at {path}; set CUSTOMSLAB_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return shared_data_dir()


@pytest.fixture(scope="session")
def reference_library(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default library built from ../shared/data once per run, outside the checkout.

    Pages and browser tests get it ready-made: building it inside a request would measure the build,
    and a library left in var/ would make one run depend on the one before.
    """
    from customslab.spectra.reference_sets import build_reference_library

    path = tmp_path_factory.mktemp("reference") / "default"
    build_reference_library(shared_data, path)
    return path


# Tests run in test mode (no production secret needed) unless a test says otherwise.
os.environ.setdefault("CUSTOMSLAB_MODE", "test")


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> None:
    """Still argon2, with minimal cost: the suite creates hundreds of users."""
    from argon2 import PasswordHasher

    from customslab.services import auth

    auth.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
