"""就业增收品质提升三年攻坚行动（富民之城）: the employment campaign service.

Run: python -m minsheng.serve minsheng_employment.main:app"""

from pathlib import Path

from minsheng.campaign_service import CampaignService

service = CampaignService("employment", Path(__file__).parent)
settings, migration_plan = service.settings, service.migration_plan
app = service.create_app()
