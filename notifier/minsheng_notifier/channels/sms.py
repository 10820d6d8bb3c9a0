"""SMS through a provider's HTTP API, with fixed, pre-approved templates only (a provider sends nothing else).

The adapter's contract (modelled on the mainland providers' signed APIs): POST JSON {"phone", "sign_name",
"template", "params"} to NOTIFIER_SMS_URL with headers X-Access-Key, X-Timestamp (unix seconds), X-Nonce and
X-Signature = base64(HMAC-SHA256(secret, "POST\\n<path>\\n<timestamp>\\n<nonce>\\n<hex SHA-256 of the body>"));
answer {"code": "OK"} or another code with a message.  A provider with another signing scheme is another adapter
with the same `send`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.parse

import httpx

from minsheng_notifier.channels.base import ChannelError, RateWindow
from minsheng_notifier.messages.models import Channel, Message
from minsheng_notifier.robots.models import Robot
from minsheng_notifier.settings import NotifierSettings

# The pre-approved templates: code → text ({…} are the parameters; 【sign】 is added by the provider).
SMS_TEMPLATES = {
    "MS_OVERDUE": "{unit}：{period}{indicator}尚未填报，截止{date}",
    "MS_DIGEST": "{unit}：您有{count}项民生指标待填报，最早截止{date}，请登录平台办理",
    "MS_RETURNED": "{unit}：{period}{indicator}被退回，请登录平台修改后重新报送",
    "MS_ORDER": "{unit}：您有督办事项{order}，办理时限{date}，请登录平台办理",
}


def render(template: str, params: dict, sign_name: str) -> str:
    return f"【{sign_name}】" + SMS_TEMPLATES[template].format(**params)


def sms_signature(secret: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    text = f"POST\n{path}\n{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}"
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


class SmsAdapter:
    channel = Channel.sms

    def __init__(self, settings: NotifierSettings, transport: httpx.AsyncBaseTransport | None):
        self.settings = settings
        self.limit = RateWindow(settings.sms_per_minute)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def rate_key(self, message: Message) -> str:
        return "sms"

    async def send(self, message: Message, *, robot: Robot | None, link: str) -> None:
        s = self.settings
        if not s.sms_url:
            raise ChannelError("未配置短信服务（NOTIFIER_SMS_URL）", retry=False)
        if message.template not in SMS_TEMPLATES:
            raise ChannelError(f"短信模板「{message.template}」未经备案", retry=False)
        body = json.dumps(
            {
                "phone": message.address,
                "sign_name": s.sms_sign_name,
                "template": message.template,
                "params": message.params,
            },
            ensure_ascii=False,
        ).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        path = urllib.parse.urlsplit(s.sms_url).path or "/"
        headers = {
            "content-type": "application/json; charset=utf-8",
            "x-access-key": s.sms_access_key,
            "x-timestamp": timestamp,
            "x-nonce": nonce,
            "x-signature": sms_signature(s.sms_secret, path, timestamp, nonce, body),
        }
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=15.0, trust_env=False)
        try:
            answer = await self._client.post(s.sms_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"短信服务无法访问：{exc.__class__.__name__}") from None
        if answer.status_code >= 500 or answer.status_code == 429:
            raise ChannelError(f"短信服务答复 HTTP {answer.status_code}")
        try:
            result = answer.json()
        except ValueError:
            raise ChannelError(f"短信服务答复不是 JSON（HTTP {answer.status_code}）") from None
        if answer.status_code >= 400 or result.get("code") != "OK":
            raise ChannelError(f"短信服务拒绝：{result.get('code')} {result.get('message', '')}", retry=False)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
