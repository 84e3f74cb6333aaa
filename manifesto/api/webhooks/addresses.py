"""Which addresses a webhook may reach: the guard between an admin's URL and the server's own network.

A webhook makes the server send requests where an admin says, so a URL is a
way into the network the server sits in (the database, the cloud's metadata
service that hands out credentials, an intranet). The rule, in one place:

- only ``http`` and ``https`` URLs with a host, no user name or password;
- the host is resolved (``socket.getaddrinfo``) and EVERY address it
  resolves to must be allowed, else the URL is refused;
- refused always: the cloud metadata addresses (``169.254.169.254``,
  ``fd00:ec2::254`` and their kin), link-local, multicast, unspecified,
  reserved and documentation ranges, Teredo;
- refused unless ``allow_private`` (the ``WEBHOOK_ALLOW_PRIVATE`` setting,
  for an intranet receiver): loopback, private (RFC 1918, IPv6 unique
  local) and shared (``100.64.0.0/10``) addresses;
- an IPv6 address that carries an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``,
  6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``) is judged by the IPv4 address
  inside, so ``::ffff:127.0.0.1`` is loopback.

The check runs when the admin saves the URL and again before every delivery,
after DNS, and the delivery connects to the very address checked here
(:class:`Target` ``.address``): a name that resolves elsewhere a second later
(DNS rebinding) changes nothing. Pure: no Flask, no database, so it is
tested on its own (``tests/test_webhook_addresses.py``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = {"http": 80, "https": 443}
MAX_URL = 2000  # the column's size

# Where clouds hand out credentials to whoever asks from inside: never, whatever the settings say.
METADATA = frozenset(ipaddress.ip_address(address) for address in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
    "fd00:ec2::254",  # AWS over IPv6
    "169.254.170.2",  # AWS ECS task credentials
    "100.100.100.200",  # Alibaba Cloud
    "168.63.129.16",  # Azure's wire server
))

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: the provider's network, not the Internet
_PRIVATE = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("172.16.0.0/12"),
            ipaddress.ip_network("192.168.0.0/16"), ipaddress.ip_network("fc00::/7"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# The kinds of address an intranet receiver may have, when WEBHOOK_ALLOW_PRIVATE says so.
PRIVATE_KINDS = frozenset({"loopback", "private", "shared"})

# Why a URL is refused: "scheme", "malformed", "userinfo", "unresolvable", or the kind of address
# ("metadata", "loopback", "private", "shared", "link_local", "multicast", "unspecified", "reserved").
Reason = str


class AddressRefused(ValueError):
    """A webhook URL the server must not send to; ``reason`` says why (a code, put into words by the caller)."""

    def __init__(self, reason: Reason, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Target:
    """A URL that passed the check, and the address the delivery must connect to."""

    url: str
    scheme: str
    host: str  # as written in the URL (lower case, without brackets), for the Host header and TLS
    port: int
    explicit_port: bool
    address: str  # the checked IP address

    @property
    def host_header(self) -> str:
        """The Host header the receiver expects: the URL's host, and its port when the URL names one."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.explicit_port else host

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address, so no second DNS lookup happens."""
        parts = urlsplit(self.url)
        address = f"[{self.address}]" if ":" in self.address else self.address
        path = parts.path or "/"
        return f"{self.scheme}://{address}:{self.port}{path}" + (f"?{parts.query}" if parts.query else "")


def kind_of(ip: IPAddress) -> str | None:
    """What kind of non-public address ``ip`` is ("loopback", "metadata"...), or None for a public one."""
    if ip in METADATA:
        return "metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "link_local"
        inner = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if inner is not None:
            return kind_of(inner)
        if ip.teredo is not None:
            return "reserved"  # a tunnel to somewhere else; no receiver needs one
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "shared"
    if any(ip in network for network in _PRIVATE if network.version == ip.version):
        return "private"
    if not ip.is_global:  # documentation, benchmarking, reserved, broadcast, site-local...
        return "reserved"
    return None


def check_address(address: str, *, allow_private: bool = False) -> IPAddress:
    """Refuse one resolved address unless a webhook may reach it.

    :raises AddressRefused: with the kind of address as the reason.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise AddressRefused("unresolvable", address) from None
    kind = kind_of(ip)
    if kind is not None and not (allow_private and kind in PRIVATE_KINDS):
        raise AddressRefused(kind, str(ip))
    return ip


def parse(url: str) -> tuple[str, str, int, bool]:
    """Check a URL's form (before any DNS): its scheme, host, port and whether the port was written.

    :raises AddressRefused: "malformed", "scheme" or "userinfo".
    """
    url = (url or "").strip()
    if not url or len(url) > MAX_URL or any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise AddressRefused("malformed")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise AddressRefused("malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise AddressRefused("scheme", scheme)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise AddressRefused("userinfo")
    if not host:
        raise AddressRefused("malformed")
    if port == 0:
        raise AddressRefused("malformed")
    return scheme, host.lower().rstrip("."), port or SCHEMES[scheme], port is not None


Resolver = Callable[..., list]


def resolve(url: str, *, allow_private: bool = False, resolver: Resolver | None = None) -> Target:
    """Check a webhook URL completely: its form, then every address its host resolves to now.

    ``resolver`` defaults to ``socket.getaddrinfo`` (looked up at each call, so a
    test can replace it). The returned :class:`Target` names the first address,
    which the delivery connects to.

    :raises AddressRefused: for a URL of the wrong form, a host that does not
        resolve, or one address (of any it resolves to) that is not allowed.
    """
    scheme, host, port, explicit = parse(url)
    lookup = resolver or socket.getaddrinfo
    try:
        infos = lookup(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:  # socket.gaierror is an OSError
        raise AddressRefused("unresolvable", str(error)) from None
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if "%" in address or (family == socket.AF_INET6 and len(sockaddr) > 3 and sockaddr[3]):
            raise AddressRefused("link_local", address)  # a zone: one interface's own link
        addresses.append(address)
    if not addresses:
        raise AddressRefused("unresolvable", host)
    checked = [check_address(address, allow_private=allow_private) for address in addresses]
    return Target(url=url.strip(), scheme=scheme, host=host, port=port, explicit_port=explicit,
                  address=str(checked[0]))
