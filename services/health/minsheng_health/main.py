"""医疗健康品质提升三年攻坚行动（健康之城）: the health campaign service.
Run: python -m minsheng.serve minsheng_health.main:app"""

from pathlib import Path

from minsheng.campaign_service import CampaignService

service = CampaignService("health", Path(__file__).parent)
settings, migration_plan = service.settings, service.migration_plan
app = service.create_app()
