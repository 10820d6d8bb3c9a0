"""Demo users for the local run (`make run` sets <PREFIX>DEMO_USERS=true). Never enabled by default."""

from minsheng.auth.models import Role

# (token, name, role, department, org unit, indicators) — the README lists these.
DEMO_USERS = (
    ("demo-city-office", "市民生办 演示用户", Role.city_office, None, None, None),
    ("demo-education-bureau", "市教育局 演示用户", Role.bureau, "市教育局", None, None),
    ("demo-health-bureau", "市卫生健康委 演示用户", Role.bureau, "市卫生健康委", None, None),
    ("demo-civil-affairs-bureau", "市民政局 演示用户", Role.bureau, "市民政局", None, None),
    ("demo-hrss-bureau", "市人力资源社会保障局 演示用户", Role.bureau, "市人力资源社会保障局", None, None),
    ("demo-housing-bureau", "市住房城乡建设局 演示用户", Role.bureau, "市住房城乡建设局", None, None),
    ("demo-zhangdian", "张店区 演示用户", Role.district, None, "370303", None),
    ("demo-viewer", "只读 演示用户", Role.viewer, None, None, None),
    ("demo-integration", "就业监测系统 演示对接", Role.integration, None, None, ["T076-1", "H-EMP-1", "H-EMP-2"]),
)
