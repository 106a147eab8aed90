"""Test-wide settings: hypothesis runs derandomized, so every run draws the same examples;
shared fixtures."""

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "reproducible",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("reproducible")


@pytest.fixture
def tiny_tables(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any, Any], None]:
    """``tiny_tables(specs1, specs2)``: Tables 1-2 run these small rows instead."""
    from numerics import tables

    def use(table1: Any, table2: Any) -> None:
        monkeypatch.setattr(
            tables,
            "EXPERIMENTS",
            [tables.table1_experiment(table1), tables.table2_experiment(table2)],
        )

    return use
