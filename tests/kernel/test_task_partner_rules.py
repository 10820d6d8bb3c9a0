"""The rule of a task's 主办 and 协办 departments (decision 0020), as plain functions: who reports which part."""

from __future__ import annotations

import pytest

from minsheng.auth.demo import DEMO_BY_USERNAME
from minsheng.auth.principal import TaskPart, TaskScope, authorize_task_status, own_part
from minsheng.errors import Forbidden, Unprocessable
from minsheng.orgunits import ALL_DISTRICTS, ORG_UNITS, districts_named

TASK = TaskScope(1, ("市教育局",), ("市住房城乡建设局", "张店区"))
ALL = TaskScope(8, ("市卫生健康委",), (ALL_DISTRICTS,))


def who(username: str):
    return DEMO_BY_USERNAME[username].principal()


def test_the_districts_a_list_of_partners_names():
    assert districts_named(("市住房城乡建设局", "张店区", "临淄区")) == {"370303", "370305"}
    assert districts_named((ALL_DISTRICTS,)) == {u.code for u in ORG_UNITS} - {"370300"}
    assert districts_named(("市民政局",)) == frozenset()


def test_each_partner_has_its_own_part_and_the_lead_none():
    assert own_part(who("demo-housing-bureau"), TASK) == TaskPart("370300", "市住房城乡建设局")
    assert own_part(who("demo-zhangdian"), TASK) == TaskPart("370303", None)  # a district's part: its own unit's
    assert own_part(who("demo-zhangdian"), ALL) == TaskPart("370303", None)
    assert own_part(who("demo-education-bureau"), TASK) is None  # the lead answers for the whole
    assert own_part(who("demo-hrss-bureau"), TASK) is None
    assert own_part(who("demo-city-office"), TASK) is None


@pytest.mark.parametrize(
    ("username", "org_unit", "partner"),
    [
        ("demo-housing-bureau", "370300", "市住房城乡建设局"),
        ("demo-education-bureau", "370300", None),
        ("demo-education-bureau", "370303", None),  # the lead, for a district
        ("demo-zhangdian", "370303", None),
        ("demo-city-office", "370300", "市住房城乡建设局"),
    ],
)
def test_who_may_report_which_part(username, org_unit, partner):
    authorize_task_status(who(username), TASK, org_unit, partner)


@pytest.mark.parametrize(
    ("username", "org_unit", "partner", "error", "code"),
    [
        ("demo-housing-bureau", "370300", None, Forbidden, "partner_not_lead"),
        ("demo-hrss-bureau", "370300", "市人力资源社会保障局", Forbidden, "not_partner_department"),
        ("demo-hrss-bureau", "370300", None, Forbidden, "not_lead_department"),
        ("demo-education-bureau", "370300", "市住房城乡建设局", Forbidden, "not_partner_department"),
        ("demo-zhangdian", "370300", "市住房城乡建设局", Forbidden, "district_part_is_own_unit"),
        ("demo-zhangdian", "370302", None, Forbidden, "other_org_unit"),
        ("demo-integration", "370300", "市住房城乡建设局", Forbidden, "integration_bulk_only"),
        ("demo-viewer", "370300", "市住房城乡建设局", Forbidden, "read_only"),
        ("demo-city-office", "370300", "张店区", Unprocessable, "not_a_partner"),  # a district reports as a unit
        ("demo-city-office", "370305", "市住房城乡建设局", Unprocessable, "partner_part_for_city"),
    ],
)
def test_who_may_not_and_why(username, org_unit, partner, error, code):
    with pytest.raises(error) as refused:
        authorize_task_status(who(username), TASK, org_unit, partner)
    assert refused.value.code == code and not refused.value.detail.isascii()
