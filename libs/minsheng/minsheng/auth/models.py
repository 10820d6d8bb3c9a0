from __future__ import annotations

import enum


class Role(enum.StrEnum):
    city_office = "city_office"  # 市民生办: everything, approve, return, lock
    bureau = "bureau"  # 牵头部门: reports on the tasks its department leads
    district = "district"  # 区县: reports for its own org unit
    viewer = "viewer"  # 只读
    integration = "integration"  # 对接系统: bulk writes for named indicators
    leader = "leader"  # 市领导: reads everything, writes 批示 and 督办单 only (docs/decisions/0022)


ROLE_LABELS = {
    Role.city_office: "市民生办",
    Role.bureau: "牵头部门",
    Role.district: "区县",
    Role.viewer: "只读用户",
    Role.integration: "对接系统",
    Role.leader: "市领导",
}
