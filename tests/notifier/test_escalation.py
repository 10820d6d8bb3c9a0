"""Escalation reaches the lead department's 负责人: a report overdue past the rules' days is told to the heads of
its lead department (accounts flagged `head`) and the city office, not to the department's other accounts; a
department without a head has all its accounts told, as before."""

from __future__ import annotations

from tests.notifier.conftest import KEY, beijing
from tests.notifier.test_reminders import set_contacts
from tests.support.identity import sign_in

PASSWORD = "Zibo-minsheng-2026!"
HEAD_MAIL, CLERK_MAIL, OFFICE_MAIL = "head@edu.example.cn", "clerk@edu.example.cn", "office@zibo.example.cn"


def new_account(stack, **body) -> dict:
    csrf = sign_in(stack.gateway, "demo-city-office")
    answer = stack.gateway.post("/api/v1/accounts", json={"password": PASSWORD, **body}, headers=csrf)
    assert answer.status_code in (201, 422), answer.text
    return answer.json()


def escalations(stack, address: str) -> list:
    return [m for m in stack.smtp.to(address) if "逾期升级" in m["Subject"]]


def test_an_overdue_report_is_escalated_to_the_departments_head_or_else_to_its_accounts(stack):
    # 市教育局 has its demo account as 负责人 and a second account that is not.
    clerk = new_account(
        stack, username="edu-clerk", display_name="市教育局 填报员", role="bureau", department="市教育局"
    )
    assert clerk["head"] is False
    refused = new_account(
        stack, username="zd-head", display_name="张店区 负责人", role="district", org_unit="370303", head=True
    )
    assert refused["code"] == "head_needs_department" and "负责人" in refused["detail"]
    set_contacts(stack, "demo-education-bureau", email=HEAD_MAIL)
    stack.gateway.cookies.clear()
    csrf = sign_in(stack.gateway, "edu-clerk", PASSWORD)
    assert stack.gateway.put("/api/v1/auth/me/contacts", json={"email": CLERK_MAIL}, headers=csrf).status_code == 200
    set_contacts(stack, "demo-city-office", email=OFFICE_MAIL)

    # 04-16: March's monthly figures (due 04-10) six days overdue, past the default five.
    day = beijing("2023-04-16")
    stack.plan(day)
    stack.send(day)
    (to_head,) = escalations(stack, HEAD_MAIL)
    assert "T002-1" in to_head.get_body(preferencelist=("plain",)).get_content()
    assert len(escalations(stack, OFFICE_MAIL)) == 1
    assert escalations(stack, CLERK_MAIL) == []  # the head is told, not every account of the department

    # The head's account disabled: the department has no head, so its accounts are told (what they were not yet).
    csrf = sign_in(stack.gateway, "demo-city-office")
    accounts = stack.gateway.get("/api/v1/accounts", params={"limit": 100}).json()["data"]
    head_id = next(a["id"] for a in accounts if a["username"] == "demo-education-bureau")
    assert next(a for a in accounts if a["username"] == "demo-education-bureau")["head"] is True
    assert stack.gateway.post(f"/api/v1/accounts/{head_id}/disable", headers=csrf).status_code == 200
    later = beijing("2023-04-17")
    stack.plan(later)
    stack.send(later)
    assert len(escalations(stack, CLERK_MAIL)) == 1
    assert len(escalations(stack, HEAD_MAIL)) == 1 and len(escalations(stack, OFFICE_MAIL)) == 1  # once each

    # The city office makes the other account the head, and refuses to make a district's account one.
    made = stack.gateway.put(f"/api/v1/accounts/{clerk['id']}/head", json={"head": True}, headers=csrf)
    assert made.status_code == 200 and made.json()["head"] is True
    district = next(a["id"] for a in accounts if a["username"] == "demo-zhangdian")
    refused = stack.gateway.put(f"/api/v1/accounts/{district}/head", json={"head": True}, headers=csrf)
    assert refused.status_code == 422 and refused.json()["code"] == "head_needs_department"
    people = stack.gateway.get("/internal/notifier/people", headers={"Authorization": f"Bearer {KEY}"}).json()
    heads = [p["username"] for p in people["people"] if p["head"] and p["department"] == "市教育局"]
    assert heads == ["edu-clerk"]  # what the notifier reads at its next round
