from pydantic_settings import BaseSettings


class TokenVerificationSettings(BaseSettings):
    """What a campaign service needs to trust the gateway's service tokens (<PREFIX>JWT_PUBLIC_KEY)."""

    # The gateway's Ed25519 public key: PEM text, or the path of a PEM file (e.g. a mounted secret).
    jwt_public_key: str = ""
