"""Canonical URLs and stable article ids."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

__all__ = ["article_id", "canonical_url"]

# Query parameters that only track where a click came from; they never change the article.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_ga",
        "_gl",
        "ref",
        "ref_src",
        "cmpid",
        "ocid",
        "smid",
        "sr_share",
        "at_medium",
        "at_campaign",
        "rss",
        "ito",
        "taid",
        "cid",
        "traffic_source",
    }
)
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "at_", "__twitter")


def canonical_url(url: str, base: str | None = None) -> str:
    """Resolve ``url`` against ``base``, drop the fragment and tracking parameters, tidy the host.

    Returns the input stripped if it is not an absolute http(s) URL after resolving.
    """
    url = (url or "").strip()
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url
    scheme = parts.scheme.lower()
    host = parts.hostname.lower().rstrip(".")
    default_port = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def article_id(canonical: str, guid: str = "") -> str:
    """A stable id: a hash of the canonical URL (or of the GUID when there is no URL)."""
    key = canonical or f"guid:{guid}"
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]
