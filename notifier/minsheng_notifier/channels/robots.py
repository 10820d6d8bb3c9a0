"""Group robots: 企业微信 群机器人 and 钉钉 自定义机器人, by their documented webhook JSON.

企业微信: POST {"msgtype": "text", "text": {"content": …}} to the webhook (key in its URL); text at most 2048
bytes (UTF-8); answer {"errcode": 0}.  钉钉: the same shape to the webhook with `&timestamp=<ms>&sign=<s>`, where
s = urlencode(base64(HMAC-SHA256(secret, "<ms>\\n<secret>"))); answer {"errcode": 0}.  Both: at most 20 messages a
minute per robot (the window is per robot)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

import httpx

from minsheng_notifier.channels.base import ChannelError, RateWindow
from minsheng_notifier.messages.models import Channel, Message
from minsheng_notifier.robots.models import Robot
from minsheng_notifier.settings import NotifierSettings

WECOM_TEXT_BYTES = 2048
DINGTALK_TEXT_BYTES = 18000  # documented 20000; room for the link


def fit(text: str, limit: int) -> str:
    """`text` cut (with …) to at most `limit` bytes of UTF-8, never inside a character."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", "ignore") + "…"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


class RobotAdapter:
    def __init__(self, channel: Channel, settings: NotifierSettings, transport: httpx.AsyncBaseTransport | None):
        self.channel = channel
        self.limit = RateWindow(settings.robot_per_minute)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def rate_key(self, message: Message) -> str:
        return message.address  # the robot's code: 20 a minute each

    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=15.0, trust_env=False)
        return self._client

    def text(self, message: Message, link: str) -> str:
        text = f"【{message.subject}】\n{message.body}"
        tail = f"\n办理地址：{link}" if link else ""
        limit = WECOM_TEXT_BYTES if self.channel is Channel.wecom else DINGTALK_TEXT_BYTES
        return fit(text, limit - len(tail.encode())) + tail

    async def send(self, message: Message, *, robot: Robot | None, link: str) -> None:
        if robot is None:
            raise ChannelError(f"机器人「{message.address}」未登记", retry=False)
        url = robot.webhook
        if self.channel is Channel.dingtalk and robot.secret:
            stamp = int(time.time() * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={dingtalk_sign(robot.secret, stamp)}"
        body = {"msgtype": "text", "text": {"content": self.text(message, link)}}
        try:
            answer = await self.client().post(url, json=body)
        except httpx.HTTPError as exc:
            raise ChannelError(f"机器人无法访问：{exc.__class__.__name__}") from None
        if answer.status_code >= 500 or answer.status_code == 429:
            raise ChannelError(f"机器人答复 HTTP {answer.status_code}")
        if answer.status_code >= 400:
            raise ChannelError(f"机器人拒绝：HTTP {answer.status_code}", retry=False)
        try:
            errcode = answer.json().get("errcode", 0)
        except ValueError:
            raise ChannelError("机器人答复不是 JSON") from None
        if errcode != 0:
            # 45009 / 130101: over the robot's limit, worth a later try; anything else is a refusal.
            raise ChannelError(
                f"机器人拒绝：errcode {errcode} {answer.json().get('errmsg', '')}", retry=errcode in (45009, 130101)
            )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
