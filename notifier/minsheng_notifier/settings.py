"""The notifier's settings, read from NOTIFIER_* variables."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from minsheng.settings import ProcessSettings
from minsheng.topology import GATEWAY, NOTIFIER


class NotifierSettings(ProcessSettings):
    model_config = SettingsConfigDict(env_prefix=NOTIFIER.env_prefix, extra="ignore")

    port: int = NOTIFIER.port
    database_url: str = NOTIFIER.default_database_url
    # The gateway's public key (PEM or a file): the 消息中心 is reached through the gateway, which signs a token
    # for the notifier as it does for the campaign services.
    jwt_public_key: str = ""
    # Where the notifier learns what is owed and who the people are (the gateway's /internal/notifier/ routes),
    # with the key the gateway expects (GATEWAY_NOTIFIER_KEY); and the base of the links it sends.
    gateway_url: str = f"http://127.0.0.1:{GATEWAY.port}"
    gateway_key: str = ""
    app_url: str = f"http://127.0.0.1:{GATEWAY.port}"
    # How often reminders are worked out (they are keyed by day, so a tick more or less changes nothing) and
    # how often due messages are sent.
    plan_seconds: float = 60.0
    send_seconds: float = 2.0
    # E-mail (SMTP; `make run` and the tests run aiosmtpd on 127.0.0.1). Empty host: no e-mail.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "淄博民生催办 <noreply@minsheng.zibo.gov.cn>"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    # SMS provider (an HMAC-signed HTTP API; `channels/sms.py`). Empty URL: no SMS.
    sms_url: str = ""
    sms_access_key: str = ""
    sms_secret: str = ""
    sms_sign_name: str = "淄博民生"
    # Retries: a failing message waits retry_initial × 2^n seconds (capped) and is marked failed after
    # max_attempts tries, without holding the others.
    max_attempts: int = Field(default=5, ge=1, le=20)
    retry_initial_seconds: float = 30.0
    retry_max_seconds: float = 1800.0
    # Rate limits per adapter (messages a minute); robots are limited per robot (their documented 20 a minute).
    email_per_minute: float = 600
    sms_per_minute: float = 120
    robot_per_minute: float = 20
    consumer_stall_seconds: float = 20.0
