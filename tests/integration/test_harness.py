"""The harness servers are real and configured the way integration tests rely on."""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from ldap3 import BASE, MODIFY_REPLACE, NONE, Connection, Server
from ldap3.core.exceptions import LDAPException

from tests.harness import missing, samba
from tests.harness.ports import LOOPBACK, port_is_open
from tests.harness.samba import SambaDc
from tests.harness.slapd import SlapdServer, close_connection
from tests.harness.smtp import CapturingSmtpServer
from tests.harness.webhook import WebhookReceiver

pytestmark = pytest.mark.integration


def _bind(slapd: SlapdServer, dn: str, password: str) -> bool:
    conn = Connection(Server(slapd.host, port=slapd.port, get_info=NONE), dn, password)
    try:
        return bool(conn.bind())
    finally:
        close_connection(conn)


def _read(slapd: SlapdServer, dn: str, *attributes: str, raw: bool = False) -> dict[str, Any]:
    with slapd.admin_connection() as conn:
        assert conn.search(dn, "(objectClass=*)", BASE, attributes=list(attributes)), conn.result
        attrs: dict[str, Any] = conn.response[0]["raw_attributes" if raw else "attributes"]
        return attrs


def test_seeded_people_bind_only_with_their_password(slapd: SlapdServer) -> None:
    assert slapd.url == f"ldap://127.0.0.1:{slapd.port}"
    for person in slapd.people.values():
        assert _bind(slapd, person.dn, person.password), person.uid
    bob = slapd.people["bob"]
    assert not _bind(slapd, bob.dn, "wrong-password")
    assert _bind(slapd, bob.dn, bob.password)  # a success resets bob's failure count


def test_seeded_person_attributes_and_manager(slapd: SlapdServer) -> None:
    bob = slapd.people["bob"]
    attrs = _read(slapd, bob.dn, "mail", "displayName", "manager")
    assert attrs["mail"] == [bob.mail]
    assert attrs["displayName"] == [bob.display_name]
    assert attrs["manager"] == [slapd.people["alice"].dn]
    [stored] = _read(slapd, bob.dn, "userPassword", raw=True)["userPassword"]
    assert stored.startswith(b"{SSHA}")  # olcPPolicyHashCleartext hashed the clear text


def test_memberof_is_computed(slapd: SlapdServer) -> None:
    attrs = _read(slapd, slapd.people["bob"].dn, "memberOf")
    assert slapd.groups["qa-approvers"].dn in attrs["memberOf"]


def test_nested_group_member(slapd: SlapdServer) -> None:
    lims = slapd.groups["lims-users"]
    members = _read(slapd, lims.dn, "member")["member"]
    assert slapd.groups["qa-approvers"].dn in members
    assert slapd.people["dave"].dn in members


def test_ppolicy_locks_account_after_max_failures(slapd: SlapdServer) -> None:
    user = slapd.people["locktest"]
    try:
        for _ in range(3):
            assert not _bind(slapd, user.dn, "wrong-password")
        assert not _bind(slapd, user.dn, user.password)
        attrs = _read(slapd, user.dn, "pwdAccountLockedTime", "pwdFailureTime")
        assert attrs["pwdAccountLockedTime"]
        assert len(attrs["pwdFailureTime"]) >= 3
    finally:
        slapd.unlock(user.uid)
    assert not _read(slapd, user.dn, "pwdFailureTime")["pwdFailureTime"]
    assert _bind(slapd, user.dn, user.password)


def test_restart_keeps_port_and_data(slapd: SlapdServer) -> None:
    carol = slapd.people["carol"]
    port = slapd.port
    with slapd.admin_connection() as conn:
        assert conn.modify(carol.dn, {"description": [(MODIFY_REPLACE, ["survives restart"])]})
    slapd.stop()
    try:
        assert not slapd.is_running()
        with pytest.raises(LDAPException):
            _bind(slapd, carol.dn, carol.password)
    finally:
        slapd.start()
    assert slapd.is_running()
    assert slapd.port == port
    slapd.restart()
    assert _bind(slapd, carol.dn, carol.password)
    attrs = _read(slapd, carol.dn, "description", "memberOf")
    assert attrs["description"] == ["survives restart"]
    assert slapd.groups["qa-approvers"].dn in attrs["memberOf"]


def _send(server: CapturingSmtpServer, subject: str, to: list[str]) -> None:
    msg = EmailMessage()
    msg["From"] = "idgov@idgov.test"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg.set_content("Please review.")
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        client.send_message(msg)


def test_smtp_captures_message(smtp_server: CapturingSmtpServer) -> None:
    _send(smtp_server, "Approval requested", ["bob@idgov.test", "carol@idgov.test"])
    [msg] = smtp_server.wait_for(1, timeout=5)
    assert msg["Subject"] == "Approval requested"
    assert msg.envelope_from == "idgov@idgov.test"
    assert msg.envelope_to == ("bob@idgov.test", "carol@idgov.test")
    assert msg.get_content().strip() == "Please review."


def test_smtp_stop_and_restart_same_port(smtp_server: CapturingSmtpServer) -> None:
    port = smtp_server.port
    smtp_server.stop()
    with pytest.raises(ConnectionRefusedError):
        _send(smtp_server, "lost", ["alice@idgov.test"])
    smtp_server.start()
    assert smtp_server.port == port
    _send(smtp_server, "after restart", ["alice@idgov.test"])
    assert [m["Subject"] for m in smtp_server.wait_for(1)] == ["after restart"]
    with pytest.raises(AssertionError, match="after restart"):
        smtp_server.wait_for(2, timeout=0.2)


def test_webhook_records_json_post(webhook_receiver: WebhookReceiver) -> None:
    resp = requests.post(f"{webhook_receiver.url}/hooks/idgov", json={"event": "x"}, timeout=5)
    assert resp.status_code == 204
    [req] = webhook_receiver.wait_for(1)
    assert (req.method, req.path) == ("POST", "/hooks/idgov")
    assert req.json == {"event": "x"}
    assert req.headers["Content-Type"] == "application/json"
    assert req.body == b'{"event": "x"}'


def test_webhook_fail_next(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.fail_next(2)
    url = f"{webhook_receiver.url}/hook"
    codes = [requests.post(url, json={"n": n}, timeout=5).status_code for n in range(3)]
    assert codes == [500, 500, 204]
    assert [r.status for r in webhook_receiver.wait_for(3)] == [500, 500, 204]


def test_samba_dc_answers_ldaps_with_the_real_sub_codes(samba_dc: SambaDc) -> None:
    bob = samba_dc.people["bob"]
    assert samba_dc.url == "ldaps://dc1.corp.test"  # the name in its certificate
    assert samba_dc.can_bind(bob.dn, bob.password)
    refused = samba_dc.bind_result(bob.dn, "wrong-password")
    assert refused["result"] == 49
    assert "AcceptSecurityContext error, data 52e" in refused["message"]
    samba_dc.unlock("bob")  # AD counted that one bad password


def test_a_missing_samba_fails_the_run_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(missing, "find_binary", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match=re.escape(samba.INSTALL_HINT)):
        SambaDc(tmp_path).start()
    assert not (tmp_path / "etc").exists()


def test_samba_refuses_to_start_when_its_fixed_ports_are_taken(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        if not port_is_open(LOOPBACK, 3268):  # the session's domain controller may hold it
            listener = stack.enter_context(socket.create_server((LOOPBACK, 3268)))
            listener.listen()
        with pytest.raises(pytest.fail.Exception, match="only one Samba domain controller"):
            SambaDc(tmp_path).start()
    assert not (tmp_path / "etc").exists()
