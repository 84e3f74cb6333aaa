"""The webhook address guard (``api/webhooks/addresses.py``): what a webhook may reach, judged after DNS."""

from __future__ import annotations

import socket

import pytest

from manifesto.api.webhooks.addresses import AddressRefused, check_address, kind_of, parse, resolve
import ipaddress


def _resolver(*addresses: str):
    """A getaddrinfo that answers ``addresses`` for any host."""

    def lookup(host, port, *args, **kwargs):
        """getaddrinfo's answer, one entry per address."""
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in addresses]

    return lookup


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fd12::1", "private"),
    ("169.254.169.254", "metadata"), ("fd00:ec2::254", "metadata"), ("169.254.1.1", "link_local"),
    ("fe80::1", "link_local"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("100.64.0.1", "shared"),
    ("192.0.2.1", "reserved"), ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "metadata"), ("::ffff:10.0.0.1", "private"),
    ("2002:7f00:1::", "loopback"), ("2002:a9fe:a9fe::", "metadata"), ("64:ff9b::a00:1", "private"),
    ("64:ff9b::7f00:1", "loopback"), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"),
    ("93.184.216.34", None), ("2606:2800:220:1:248:1893:25c8:1946", None), ("::ffff:93.184.216.34", None),
])
def test_each_kind_of_address_is_named(address, kind):
    assert kind_of(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "::1", "100.64.1.1"])
def test_private_addresses_pass_only_when_the_setting_allows(address):
    with pytest.raises(AddressRefused):
        check_address(address)
    assert str(check_address(address, allow_private=True)) == address


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "169.254.0.1",
                                     "224.0.0.1", "0.0.0.0"])
def test_metadata_and_link_local_are_refused_even_for_an_intranet(address):
    with pytest.raises(AddressRefused):
        check_address(address, allow_private=True)


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.org/", "scheme"), ("file:///etc/passwd", "scheme"), ("gopher://x/", "scheme"),
    ("http://user:pass@example.org/", "userinfo"), ("http://user@example.org/", "userinfo"),
    ("http:///path", "malformed"), ("", "malformed"), ("http://exa mple.org/", "malformed"),
    ("http://example.org:99999/", "malformed"), ("http://example.org:0/", "malformed"),
    ("https://example.org/" + "a" * 2000, "malformed"), ("javascript:alert(1)", "scheme"),
])
def test_urls_of_the_wrong_form_are_refused_before_any_lookup(url, reason):
    with pytest.raises(AddressRefused) as refused:
        parse(url)
    assert refused.value.reason == reason


@pytest.mark.parametrize("resolved, reason", [
    (("127.0.0.1",), "loopback"), (("10.0.0.7",), "private"), (("169.254.169.254",), "metadata"),
    (("::1",), "loopback"), (("93.184.216.34", "127.0.0.1"), "loopback"),  # every address counts
])
def test_a_host_is_judged_by_every_address_it_resolves_to(resolved, reason):
    with pytest.raises(AddressRefused) as refused:
        resolve("https://hooks.example.org/in", resolver=_resolver(*resolved))
    assert refused.value.reason == reason


def test_a_hostname_that_resolves_to_loopback_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _resolver("127.0.0.1"))
    with pytest.raises(AddressRefused) as refused:
        resolve("https://innocent.example.com/hook")
    assert refused.value.reason == "loopback"


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://[::1]:8080/", "http://2130706433/", "http://0x7f.1/",
                                 "http://localhost/", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::ffff:127.0.0.1]/", "http://10.0.0.1/"])
def test_literal_and_odd_forms_of_inside_addresses_are_refused(url):
    with pytest.raises(AddressRefused):
        resolve(url)


def test_an_unresolvable_host_is_refused():
    def failing(*args, **kwargs):
        """No such host."""
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(AddressRefused) as refused:
        resolve("https://nowhere.invalid/", resolver=failing)
    assert refused.value.reason == "unresolvable"


def test_a_public_host_resolves_to_the_address_the_delivery_will_use():
    target = resolve("https://Hooks.Example.org:8443/in?x=1", resolver=_resolver("93.184.216.34"))
    assert (target.host, target.port, target.address) == ("hooks.example.org", 8443, "93.184.216.34")
    assert target.pinned_url == "https://93.184.216.34:8443/in?x=1"
    assert target.host_header == "hooks.example.org:8443"
    six = resolve("http://example.org", resolver=_resolver("2606:2800:220:1:248:1893:25c8:1946"))
    assert six.pinned_url == "http://[2606:2800:220:1:248:1893:25c8:1946]:80/" and six.host_header == "example.org"
