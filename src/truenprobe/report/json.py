"""A Report as DESIGN.md's check/analyze/lab JSON."""

from __future__ import annotations

import json

from truenprobe.report.model import Report


def report_json(report: Report, *, indent: int | None = 2) -> str:
    return json.dumps(report.to_dict(), indent=indent, ensure_ascii=False) + "\n"
