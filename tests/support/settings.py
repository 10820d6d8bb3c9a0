"""The settings class each process of the topology really reads: what the deployment files are checked against."""

from __future__ import annotations

from minsheng.topology import GATEWAY, NOTIFIER, WEBHOOKS, Process
from minsheng_gateway.settings import GatewaySettings
from minsheng_notifier.settings import NotifierSettings
from minsheng_webhooks.settings import WebhooksSettings
from tests.conftest import campaign_module


def settings_class(process: Process) -> type:
    if process == GATEWAY:
        return GatewaySettings
    if process == NOTIFIER:
        return NotifierSettings
    if process == WEBHOOKS:
        return WebhooksSettings
    return type(campaign_module(process.name).service.settings)
