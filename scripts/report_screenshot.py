"""Regenerate docs/report.png, the README's picture of an HTML report.

Run from anywhere: ``.venv/bin/python scripts/report_screenshot.py``. It renders the
example report of the tests (tests/report/html_samples.py) and photographs it in headless
Chromium with the same harness the tests use.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.report.html_samples import CAMERA, readme_example  # noqa: E402
from tests.support.chromium import Chromium  # noqa: E402

from truenprobe.report.html import render_report_html  # noqa: E402

COMMAND = [
    "truenprobe",
    "check",
    CAMERA,
    "--client",
    "decoder",
    "--protocol",
    "rtsp",
    "--transport",
    "udp",
    "--user",
    "admin",
    "--password",
    "example-secret",
    "--html",
    "report.html",
]


def main() -> None:
    out = ROOT / "docs" / "report.png"
    page = render_report_html(
        readme_example(), COMMAND, checked_at=datetime.fromisoformat("2026-11-27T10:42:07+09:00")
    )
    with tempfile.TemporaryDirectory() as tmp, Chromium() as browser:
        html = Path(tmp) / "report.html"
        html.write_text(page, encoding="utf-8")
        load = browser.load(html)
        if load.errors():
            sys.exit(f"the page logged errors: {load.errors()}")
        out.parent.mkdir(exist_ok=True)
        browser.screenshot(out, width=1000)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
