"""Canonical URLs and stable article ids."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

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
DEFAULT_PORTS = {"http": 80, "https": 443}
_WHITESPACE = re.compile(r"\s")


def canonical_url(url: str, base: str | None = None) -> str:
    """Resolve ``url`` against ``base``; drop the fragment, tracking parameters and any user
    name or password; tidy the host.

    The rest of the query is kept byte for byte (not re-encoded), so two links that differ only
    in tracking parameters have the same canonical form. Returns the input stripped if it is not
    an http(s) URL after resolving, and "" for an http(s) URL without a host.
    """
    url = (url or "").strip()
    if base and not url.lower().startswith(("http://", "https://")):
        try:
            url = urljoin(base, url)
        except ValueError:
            return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        # a bad port or IPv6 literal: an http(s) URL that leads nowhere
        return "" if url.lower().startswith(("http:", "https:")) else url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return url
    if not parts.hostname:
        return ""  # "http://#", "https:/path": not a link to anywhere
    host = parts.hostname.lower().rstrip(".")
    if not host or "[" in host or "]" in host:
        return ""  # a bracket outside an IPv6 literal ("http://[::1]@]": the host is "]")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = parts.query
    if query:
        # A stray second "?" ("?id=7?utm_source=rss", a common publishing slip) separates
        # parameters too; the parameters kept are kept as written.
        kept = []
        for pair in query.split("&"):
            pieces = [p for p in pair.split("?") if not (p and _is_tracking(p))]
            if any(pieces):
                kept.append("?".join(pieces))
        query = "&".join(kept)
    # Whitespace is not allowed in a URL: percent-encode what a sloppy feed left in.
    path = _WHITESPACE.sub(_encode, parts.path or "/")
    return urlunsplit((scheme, netloc, path, _WHITESPACE.sub(_encode, query), ""))


def _encode(match: re.Match[str]) -> str:
    return quote(match.group(0), safe="")


def _is_tracking(pair: str) -> bool:
    key = unquote_plus(pair.split("=", 1)[0]).lower()
    # "utm_" names nothing but Urchin tracking, even glued to junk ("0utm_source")
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES) or "utm_" in key


def article_id(canonical: str, guid: str = "") -> str:
    """A stable id: a hash of the canonical URL (or of the GUID when there is no URL)."""
    key = canonical or f"guid:{guid}"
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]
