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
