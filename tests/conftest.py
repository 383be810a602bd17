from __future__ import annotations

import pytest
from hypothesis import settings

from tests.faketree import FakeKernel

# `pytest --hypothesis-profile=thorough`: the property-based readers' tests with 20x the examples
settings.register_profile("thorough", max_examples=1200, deadline=None)


@pytest.fixture
def fake(tmp_path) -> FakeKernel:
    return FakeKernel(tmp_path / "root").kernel()
