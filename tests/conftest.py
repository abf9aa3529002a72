from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

# Fast and deterministic by default; CI machines are small and shared.
settings.register_profile(
    "default", max_examples=60, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("default")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
