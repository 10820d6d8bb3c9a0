from pydantic_settings import BaseSettings


class IdentitySettings(BaseSettings):
    """The gateway's identity settings (GATEWAY_*; `GatewaySettings` reads them)."""

    # The Ed25519 private key service tokens are signed with: PEM text, or the path of a PEM file.
    # `make run` generates one under var/; production mounts it as a secret.
    jwt_private_key: str = ""
    # How long a service token lives (at most 60 s): as long as a disabled account's calls can still land.
    service_token_seconds: int = 30
    # A session ends after this long without a request, and in any case this long after sign-in.
    session_idle_minutes: float = 30.0
    session_absolute_hours: float = 12.0
    # This many failed sign-ins in a row lock the account for lockout_minutes.
    lockout_threshold: int = 5
    lockout_minutes: float = 15.0
    password_min_length: int = 10
    # Mark the session cookie Secure even when the request itself is plain HTTP (TLS ends at a proxy).
    cookie_secure: bool = False
