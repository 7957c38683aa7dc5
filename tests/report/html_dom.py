"""What the HTML report tests ask of a page rendered in Chromium (JavaScript run in the
page through DevTools) and the checks built on the answers."""

from __future__ import annotations

from pathlib import Path

from tests.support.chromium import Chromium, pdf_page_count
from truenprobe.report.svg import COLOUR, Ink

# The arrows as the browser drew them: computed colours, not attributes.
ARROWS_JS = """
[...document.querySelectorAll('svg.site g.flow')].map(g => ({
  flow: g.dataset.flow,
  status: g.dataset.status,
  stroke: getComputedStyle(g.querySelector('line.flow-line')).stroke,
  head: getComputedStyle(g.querySelector('polygon.flow-head')).fill,
  length: g.querySelector('line.flow-line').getBBox().width,
}))
"""

# Text that spills out of its box, or runs over a forward badge on its lane.
LAYOUT_JS = """
(() => {
  const bad = [];
  const hit = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width
                     && a.y < b.y + b.height && b.y < a.y + a.height;
  for (const g of document.querySelectorAll('svg.site g.node')) {
    const box = g.querySelector('rect.box');
    if (!box) continue;
    const b = box.getBBox();
    for (const t of g.querySelectorAll('text')) {
      const r = t.getBBox();
      if (r.x < b.x - 1 || r.x + r.width > b.x + b.width + 1 || r.y + r.height > b.y + b.height + 1)
        bad.push(`${g.dataset.node}: "${t.textContent}" leaves its box`);
    }
  }
  for (const g of document.querySelectorAll('svg.site g.flow')) {
    for (const t of g.querySelectorAll(':scope > text'))
      for (const badge of g.querySelectorAll('g.badge rect'))
        if (hit(t.getBBox(), badge.getBBox()))
          bad.push(`${g.dataset.flow}: "${t.textContent}" runs over a badge`);
  }
  return bad;
})()
"""

# Anything that could run: script elements, event handler attributes, javascript: URLs.
ACTIVE_JS = """
(() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    if (['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'IMG'].includes(el.tagName.toUpperCase()))
      found.push(el.tagName);
    for (const a of el.attributes)
      if (a.name.startsWith('on') || /javascript:/i.test(a.value)) found.push(a.name);
  }
  return {found, pwned: typeof window.__pwned};
})()
"""


def rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def open_clean(browser: Chromium, path: Path) -> None:
    """Load a page and insist it was quiet and self-contained."""
    load = browser.load(path)
    assert load.errors() == []
    assert load.requests == [path.resolve().as_uri()]


def check_one_page(browser: Chromium, out: Path) -> None:
    for paper in ("a4", "letter"):
        pdf = browser.print_pdf(out.with_suffix(f".{paper}.pdf"), paper=paper)
        assert pdf_page_count(pdf.read_bytes()) == 1, f"{pdf.name} prints on more than one page"


def check_arrows(browser: Chromium, expected: dict[str, Ink]) -> None:
    arrows = browser.evaluate(ARROWS_JS)
    assert [a["flow"] for a in arrows] == list(expected)
    for arrow in arrows:
        ink = expected[arrow["flow"]]
        assert arrow["status"] == ink.value
        assert arrow["stroke"] == rgb(COLOUR[ink]), arrow
        assert arrow["head"] == rgb(COLOUR[ink]), arrow
        assert arrow["length"] > 600  # spans client to camera, across the picture
    assert browser.evaluate(LAYOUT_JS) == []
