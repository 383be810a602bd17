from __future__ import annotations

import pytest

from tests.faketree import FakeKernel


@pytest.fixture
def fake(tmp_path) -> FakeKernel:
    return FakeKernel(tmp_path / "root").kernel()
