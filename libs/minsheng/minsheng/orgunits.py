"""Zibo city and the units that report to it (GB/T 2260 codes; functional zones get stable codes of ours).

The functional zones (高新区, 经开区, 文昌湖区) have no GB/T 2260 code of their own: Zibo's
statistics report them separately, so they get codes in the city's 3703xx range that
GB/T 2260 leaves unused (3703 90–92), and are marked as zones.
"""

from dataclasses import dataclass

CITY_CODE = "370300"


@dataclass(frozen=True)
class OrgUnitSeed:
    code: str
    name: str
    kind: str  # city | district | county | zone


ORG_UNITS: tuple[OrgUnitSeed, ...] = (
    OrgUnitSeed(CITY_CODE, "淄博市", "city"),
    OrgUnitSeed("370302", "淄川区", "district"),
    OrgUnitSeed("370303", "张店区", "district"),
    OrgUnitSeed("370304", "博山区", "district"),
    OrgUnitSeed("370305", "临淄区", "district"),
    OrgUnitSeed("370306", "周村区", "district"),
    OrgUnitSeed("370321", "桓台县", "county"),
    OrgUnitSeed("370322", "高青县", "county"),
    OrgUnitSeed("370323", "沂源县", "county"),
    OrgUnitSeed("370390", "高新区", "zone"),
    OrgUnitSeed("370391", "经开区", "zone"),
    OrgUnitSeed("370392", "文昌湖区", "zone"),
)

# A 协办单位 that names no district: every district, county and functional zone is a partner (decision 0020).
ALL_DISTRICTS = "各区县（功能区）"


def districts_named(names: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The codes of the districts (counties, zones) a list of partners names: each by its name, or all of them
    through `ALL_DISTRICTS`; the departments in the list name none."""
    if ALL_DISTRICTS in names:
        return frozenset(unit.code for unit in ORG_UNITS if unit.code != CITY_CODE)
    return frozenset(unit.code for unit in ORG_UNITS if unit.code != CITY_CODE and unit.name in names)
