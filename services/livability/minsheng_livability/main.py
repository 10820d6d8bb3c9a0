"""文明宜居品质提升三年攻坚行动（宜居之城）: the livability campaign service.

Run: python -m minsheng.serve minsheng_livability.main:app"""

from pathlib import Path

from minsheng.campaign_service import CampaignService

service = CampaignService("livability", Path(__file__).parent)
settings, migration_plan = service.settings, service.migration_plan
app = service.create_app()
