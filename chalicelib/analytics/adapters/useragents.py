"""Device, OS and browser from a User-Agent (ua-parser, the maintained uap-core rules), and the
continent of a country code."""

from __future__ import annotations

from functools import lru_cache

from chalicelib.analytics.domain.beacons import Viewer
from chalicelib.analytics.domain.geography import continent_of

MAX_USER_AGENT = 512
_TABLETS = ("ipad", "tablet", "kindle", "nexus 7", "nexus 9", "sm-t")
_TVS = ("smart-tv", "smarttv", "appletv", "googletv", "hbbtv", "roku", "crkey", "aftb", "aftm")
_CONSOLES = ("playstation", "xbox", "nintendo")
_WEARABLES = ("watch",)


class UaParserViewers:
    def viewer(self, user_agent: str, country: str) -> Viewer:
        device, system, browser = _parse(user_agent[:MAX_USER_AGENT])
        code = country.upper() if len(country) == 2 and country.isalpha() else ""
        return Viewer(device, system, browser, code, continent_of(code))


@lru_cache(maxsize=4096)
def _parse(user_agent: str) -> tuple[str, str, str]:
    from ua_parser import parse

    result = parse(user_agent)
    browser = result.user_agent.family if result.user_agent else "unknown"
    system = result.os.family if result.os else "unknown"
    return _device_type(user_agent.lower(), result.device.family if result.device else "", system), system, browser


def _device_type(user_agent: str, family: str, system: str) -> str:
    """api.video's device types: computer, phone, tablet, tv, console, wearable, unknown."""
    text = f"{user_agent} {family.lower()}"
    for names, kind in ((_CONSOLES, "console"), (_TVS, "tv"), (_TABLETS, "tablet"), (_WEARABLES, "wearable")):
        if any(name in text for name in names):
            return kind
    if family.lower() == "spider":
        return "unknown"
    if system == "Android" and "mobile" not in text:
        return "tablet"  # Android tablets leave "Mobile" out of their User-Agent
    if "mobile" in text or system in ("iOS", "Android"):
        return "phone"
    if system in ("Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "FreeBSD"):
        return "computer"
    return "unknown"
