"""教育品质提升三年攻坚行动（优教之城）: the education campaign service.
Run: python -m minsheng.serve minsheng_education.main:app"""

from pathlib import Path

from minsheng.campaign_service import CampaignService

service = CampaignService("education", Path(__file__).parent)
settings, migration_plan = service.settings, service.migration_plan
app = service.create_app()
