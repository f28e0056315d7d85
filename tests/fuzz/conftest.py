"""Hypothesis settings for the fuzz tests: bounded, so they stay fast inside scripts/test.

``HYPOTHESIS_PROFILE=deep`` runs many more examples (``HYPOTHESIS_PROFILE=deep .venv/bin/pytest tests/fuzz``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=False, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("deep", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
