import pytest

from tests.tui.helpers import demo_source, make_app


@pytest.fixture
def app_for():
    return lambda scenario: make_app(demo_source(scenario))
