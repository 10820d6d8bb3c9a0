"""时间回溯: every view answers as the plan stood on a chosen day (`as_of`), from the gateway's own tables."""

from __future__ import annotations

from tests.support.views import fold_all, outbox_events, scenario

TODAY = "2022-12-31"  # the gateway fixture's clock


def education(summary: dict) -> dict:
    return next(c for c in summary["campaigns"] if c["campaign"] == "education")


def judged(summary: dict) -> int:
    """Indicators with a status other than "no data" (some have one from their baseline alone)."""
    return sum(n for status, n in summary["indicators_by_status"].items() if status != "no_data")


def test_summaries_and_warnings_answer_for_the_day_asked(campaign_client, gateway):
    service = campaign_client("education")
    scenario(service)
    assert all(fold_all(gateway, outbox_events(service)))

    def get(path: str, **params):
        response = gateway.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    for path in ("/api/v1/city/summary", "/api/v1/districts/370303/summary"):
        today = get(path)
        assert get(path, as_of=TODAY) == today  # today asked for explicitly: the same answer
        before = get(path, as_of="2022-05-31")  # before any period approved in the scenario ended
        assert before["as_of"] == "2022-05-31"
        # Fewer indicators judged (the scenario's values did not count yet), more without data.
        assert judged(before) < judged(today)
        no_data = [education(s)["indicators_by_status"]["no_data"] for s in (before, today)]
        assert no_data[0] > no_data[1]

    warnings_today = get("/api/v1/warnings")
    assert get("/api/v1/warnings", as_of=TODAY) == warnings_today
    # The blocked 2022Q4 task report is a warning today, not before that quarter ended; nothing had data then.
    assert any(w["kind"] == "task" and w["task_number"] == 6 for w in warnings_today)
    assert get("/api/v1/warnings", as_of="2022-05-31") == []


def test_a_day_that_is_not_a_date_is_refused_in_chinese(gateway):
    response = gateway.get("/api/v1/city/summary", params={"as_of": "2022-13-01"})
    assert response.status_code == 422
    assert "detail" in response.json()
