import syslog

from lptui.core.actions.audit import Audit


def test_audit_goes_to_kmsg_syslog_and_sink(tmp_path, monkeypatch):
    kmsg = tmp_path / "kmsg"
    kmsg.write_text("")
    logged = []
    monkeypatch.setattr(syslog, "syslog", lambda prio, text: logged.append((prio, text)))
    monkeypatch.setattr(syslog, "openlog", lambda *a, **k: None)
    monkeypatch.setenv("SUDO_USER", "alice")
    echoed = []
    audit = Audit(kmsg=str(kmsg), echo=lambda line, ok: echoed.append((line, ok)))
    audit.record("revert lp_x: disabled patch 'lp_x'", ok=True)
    audit.record("force lp_y: failed: not in transition", ok=False)
    lines = kmsg.read_text().splitlines()
    assert lines[0].startswith("<5>lptui: ") and "(via sudo by alice) revert lp_x" in lines[0]
    assert lines[1].startswith("<4>lptui: ") and "failed" in lines[1]
    assert [p for p, _ in logged] == [syslog.LOG_NOTICE, syslog.LOG_WARNING]
    assert audit.sink == [text for _, text in logged] == [line for line, _ in echoed]


def test_audit_without_kmsg_access_still_logs(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(syslog, "syslog", lambda prio, text: logged.append(text))
    monkeypatch.setattr(syslog, "openlog", lambda *a, **k: None)
    Audit(kmsg=str(tmp_path / "missing" / "kmsg")).record("load x: loaded", ok=True)
    assert len(logged) == 1
