import errno

import pytest

from lptui.core import errors

TABLES = [errors.LOAD, errors.ENABLED, errors.FORCE, errors.SIGNAL, errors.UNLOAD]


@pytest.mark.parametrize("table", TABLES)
def test_every_mapping_gives_words_and_errno_name(table):
    for code, words in table.items():
        text = errors.explain(table, code)
        assert text.startswith(words) and text.endswith(f"({errno.errorcode[code]})")


def test_load_mentions_the_important_cases():
    assert "already loaded" in errors.explain(errors.LOAD, errno.EEXIST)
    assert "transition" in errors.explain(errors.LOAD, errno.EBUSY)
    assert "livepatch" in errors.explain(errors.LOAD, errno.EINVAL)
    assert "livepatch support" in errors.explain(errors.LOAD, errno.ENOEXEC)
    assert "signature" in errors.explain(errors.LOAD, errno.EKEYREJECTED)
    assert "CAP_SYS_MODULE" in errors.explain(errors.LOAD, errno.EPERM)
    assert "forced" in errors.explain(errors.UNLOAD, errno.EWOULDBLOCK)


def test_unknown_errno_falls_back_to_strerror():
    assert errors.explain(errors.FORCE, errno.EXDEV) == "Invalid cross-device link (EXDEV)"
    assert errors.explain(errors.FORCE, None) == "failed"
