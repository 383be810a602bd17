import os
from pathlib import Path

import pytest

from tests.realkernel.guest import kmod


@pytest.fixture(autouse=True)
def clean_kernel():
    if not Path("/sys/kernel/livepatch").is_dir():
        pytest.fail("this guest kernel has no /sys/kernel/livepatch")
    kmod.cleanup()
    yield
    kmod.cleanup()


@pytest.fixture
def kernel_label() -> str:
    return os.environ["LPTUI_GUEST_KERNEL"]


def pytest_collection_modifyitems(items):
    """The on-call tests first: a forced transition is remembered for the rest of the boot (the
    kernel log, a module that keeps its reference), and `check` must be judged on a boot without one."""
    items.sort(key=lambda item: 0 if item.module.__name__.endswith("test_oncall") else 1)
