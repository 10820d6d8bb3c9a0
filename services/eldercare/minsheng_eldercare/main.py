"""养老服务品质提升三年攻坚行动（颐养之城）: the eldercare campaign service.
Run: python -m minsheng.serve minsheng_eldercare.main:app"""

from pathlib import Path

from minsheng.campaign_service import CampaignService

service = CampaignService("eldercare", Path(__file__).parent)
settings, migration_plan = service.settings, service.migration_plan
app = service.create_app()
