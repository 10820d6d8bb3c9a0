"""Year one, as seed 002 (淄博市高品质民生"周年答卷") reports it, loaded as approved city-level
reports for 2022: the statuses are the ones a reader of the plan would expect at 2022-12-31.
(Each sentence is quoted from seed 002, which lives outside the repository: the suite does not read it.)"""

import pytest

from tests.conftest import CITY

AS_OF = "2022-12-31"

# (campaign, indicator, value, the sentence of seed 002 it comes from, expected status, why)
RESULTS = [
    ("eldercare", "T062-1", 670, "长者食堂670处", "completed", "300 planned for 2022, 670 opened"),
    (
        "eldercare",
        "T059-1",
        3000,
        "年度新增家庭养老床位3000张",
        "on_track",
        "exactly the 2022 milestone of 3000 on the way to 7000",
    ),
    (
        "employment",
        "T076-1",
        20000,
        "城乡公益性岗位上岗人数达到2万余人",
        "on_track",
        "above the 2022 milestone of 16300",
    ),
    (
        "employment",
        "T078-1",
        100000,
        "提前完成“三年十万大学生集聚计划”",
        "completed",
        "the three-year 10万 reached early",
    ),
    ("employment", "T079-1", 11, "发放担保贷款11亿元", "on_track", "11 of 21亿元; a third of the way is 7"),
    ("livability", "T106-1", 20000, "棚户区改造2万余套全部开工", "on_track", "20000 of 40000; a third is 13333"),
    ("health", "T030-1", 67, "新建67家智慧预防接种门诊", "on_track", "67 of 136; a third is 45.3"),
    ("health", "T034-1", 41, "新增41处中心村卫生室", "behind", "41 of 350; a third is 116.7, 35 % of it"),
    (
        "health",
        "T035-1",
        28000,
        "市外名医专家团队来淄开展诊疗服务2.8万人次",
        "on_track",
        "20000 per year, 28000 in 2022: the year is met, the plan runs to 2024",
    ),
]


@pytest.mark.parametrize(
    ("campaign", "indicator", "value", "sentence", "expected", "why"), RESULTS, ids=[r[1] for r in RESULTS]
)
def test_year_one_statuses(campaign_client, campaign, indicator, value, sentence, expected, why):
    client = campaign_client(campaign)
    created = client.post(
        "/api/v1/reports",
        headers=CITY,
        json={
            "indicator": indicator,
            "org_unit": "370300",
            "period": "2022",
            "value": value,
            "note": f"周年答卷：{sentence}",
        },
    )
    assert created.status_code == 201, created.text
    assert client.post(f"/api/v1/reports/{created.json()['id']}/approve", headers=CITY).status_code == 200
    answer = client.get(f"/api/v1/indicators/{indicator}/progress", params={"as_of": AS_OF}).json()
    assert answer["status"] == expected, f"{indicator} ({why}): {answer['reasons']}"
    assert answer["current_value"] == value


def test_year_one_eldercare_tasks(campaign_client):
    client = campaign_client("eldercare")
    for indicator, value in (("T062-1", 670), ("T059-1", 3000)):
        created = client.post(
            "/api/v1/reports",
            headers=CITY,
            json={"indicator": indicator, "org_unit": "370300", "period": "2022", "value": value},
        )
        client.post(f"/api/v1/reports/{created.json()['id']}/approve", headers=CITY)
    summary = client.get("/api/v1/progress", params={"as_of": AS_OF}).json()
    by_task = {t["number"]: t["status"] for item in summary["items"] for t in item["tasks"]}
    assert by_task[62] == "completed"  # 长者食堂: its only indicator is done
    assert by_task[59] == "on_track"  # 家庭养老床位 on its milestone; the funding figure is not reported
    assert summary["tasks_by_status"]["completed"] == 1


def test_year_one_task_106_records_the_finished_renovation_projects(campaign_client):
    client = campaign_client("livability")
    response = client.post(
        "/api/v1/task-status",
        headers=CITY,
        json={
            "task": 106,
            "org_unit": "370300",
            "period": "2022",
            "state": "in_progress",
            "narrative": "棚户区改造2万余套全部开工，46个老旧小区改造项目全部完成",
        },
    )
    assert response.status_code == 201
    created = client.post(
        "/api/v1/reports",
        headers=CITY,
        json={"indicator": "T106-1", "org_unit": "370300", "period": "2022", "value": 20000},
    )
    client.post(f"/api/v1/reports/{created.json()['id']}/approve", headers=CITY)
    task = client.get("/api/v1/tasks/106/progress", params={"as_of": AS_OF}).json()
    assert task["status"] == "on_track" and task["basis"] == "indicators"
    assert task["reported_status"]["narrative"].endswith("46个老旧小区改造项目全部完成")
