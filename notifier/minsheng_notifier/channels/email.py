"""E-mail over SMTP (the standard library's smtplib, in a thread): a Chinese subject and body with the link."""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from minsheng_notifier.channels.base import ChannelError, RateWindow
from minsheng_notifier.messages.models import Channel, Message
from minsheng_notifier.robots.models import Robot
from minsheng_notifier.settings import NotifierSettings


def message_id(key: str) -> str:
    """The same for a message sent again after a crash: a mail system can tell it is one message."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@minsheng-notifier>"


class EmailAdapter:
    channel = Channel.email

    def __init__(self, settings: NotifierSettings):
        self.settings = settings
        self.limit = RateWindow(settings.email_per_minute)

    def rate_key(self, message: Message) -> str:
        return "smtp"

    def compose(self, message: Message, link: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.smtp_sender
        mail["To"] = f"{message.recipient} <{message.address}>"
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message.key)
        tail = f"\n\n办理地址：{link}\n\n（本邮件由淄博市高品质民生平台自动发送，请勿直接回复。）" if link else ""
        mail.set_content(message.body + tail, charset="utf-8")
        return mail

    def _send(self, mail: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=20) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
            smtp.send_message(mail)

    async def send(self, message: Message, *, robot: Robot | None, link: str) -> None:
        if not self.settings.smtp_host:
            raise ChannelError("未配置邮件服务器（NOTIFIER_SMTP_HOST）", retry=False)
        try:
            await asyncio.to_thread(self._send, self.compose(message, link))
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(f"邮件服务器拒收该地址：{exc}", retry=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"邮件发送失败：{exc.__class__.__name__}: {exc}") from None
