"""SSRF guard: an endpoint's address is checked when it is saved and again, resolved, at every try.

The host is resolved at send time and every address it resolves to must be public (not private, loopback,
link-local, multicast, reserved, unspecified) unless the operator allows it; the connection then goes to the
address that was checked (the URL's host kept for `Host` and TLS's SNI), so a name that resolves to a public
address on the check and to 127.0.0.1 on the connection (DNS rebinding) cannot slip through."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from minsheng.errors import Unprocessable


class Refused(Exception):
    """A destination the platform does not send to; `code` for the log, `reason` in Chinese."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(frozen=True)
class Target:
    url: str  # with the checked address in place of the host
    host: str  # for the Host header and SNI
    address: str


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_url(url: str, *, allow_http: bool) -> tuple[str, str, int]:
    """The scheme, host and port of an endpoint's URL, or `Refused`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("url_invalid", "接收地址格式有误") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Refused("url_invalid", "接收地址须为 https:// 开头的完整网址")
    if parts.scheme == "http" and not allow_http:
        raise Refused("https_required", "接收地址须使用 HTTPS（https://）")
    if parts.username or parts.password:
        raise Refused("url_invalid", "接收地址中不能包含用户名或密码")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def validate_endpoint_url(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """On saving: the form, and a literal address that is not allowed (a name is judged when sending)."""
    try:
        _, host, _ = check_url(url, allow_http=allow_http)
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return
        if not allow_private and _forbidden(literal):
            raise Refused("destination_not_allowed", f"接收地址 {host} 是内网、本机或保留地址，不允许投递")
    except Refused as refused:
        raise Unprocessable(refused.reason, code=refused.code) from None


async def resolve(url: str, *, allow_http: bool, allow_private: bool) -> Target:
    """The address to connect to for `url`, checked; `Refused` otherwise."""
    scheme, host, port = check_url(url, allow_http=allow_http)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise Refused("dns_failed", f"无法解析接收地址的域名 {host}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise Refused("dns_failed", f"无法解析接收地址的域名 {host}")
    if not allow_private:
        bad = [a for a in addresses if _forbidden(a)]
        if bad:  # any bad answer refuses the name: a later lookup could pick it
            raise Refused("destination_not_allowed", f"{host} 解析为内网、本机或保留地址 {bad[0]}，不允许投递")
    chosen = addresses[0]
    parts = urlsplit(url)
    netloc = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{netloc}:{port}"
    return Target(url=urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")), host=host, address=str(chosen))
