"""A Report as JUnit XML: one testcase per planned flow, so CI shows which one broke.

A required flow that failed is a ``<failure>`` with the diagnosis; a flow that could
not be tested is ``<skipped>``; an optional flow that failed is ``<skipped>`` too
(it must not fail a build the verdict passes), with the diagnosis as its message.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from truenprobe.plan.words import ports_text, scenario_title
from truenprobe.report.model import Report, Status
from truenprobe.report.words import evidence_text, unexpected_text


def _suite(report: Report, name: str | None = None) -> ET.Element:
    results = report.results
    failures = sum(1 for r in results if r.status is Status.FAIL and r.required)
    skipped = sum(
        1
        for r in results
        if r.status is Status.SKIPPED or (not r.required and r.status is Status.FAIL)
    )
    suite = ET.Element(
        "testsuite",
        {
            "name": name or f"truenprobe check {report.camera}",
            "tests": str(len(results)),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(skipped),
            "time": f"{report.duration_s:.3f}",
        },
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(
        props, "property", {"name": "scenario", "value": scenario_title(report.plan.scenario)}
    )
    ET.SubElement(props, "property", {"name": "verdict", "value": report.verdict.value})
    classname = f"truenprobe.{report.camera}"
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": classname,
                "name": f"{r.flow} ({r.protocol.upper()} {ports_text(r.ports)})",
            },
        )
        evidence = evidence_text(r)
        if r.status is Status.FAIL and r.required:
            failure = ET.SubElement(case, "failure", {"message": r.diagnosis or "failed"})
            failure.text = evidence or None
        elif r.status is Status.FAIL:
            ET.SubElement(
                case, "skipped", {"message": f"optional flow failed: {r.diagnosis or ''}"}
            )
        elif r.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", {"message": r.diagnosis or "not tested"})
        if evidence:
            ET.SubElement(case, "system-out").text = evidence
    extra = [unexpected_text(u) for u in report.unexpected] + list(report.findings)
    if extra:
        ET.SubElement(suite, "system-out").text = "\n".join(extra)
    return suite


def report_junit(report: Report) -> str:
    return reports_junit([report])


def reports_junit(reports: Sequence[Report], names: Sequence[str] | None = None) -> str:
    """One testsuite per camera (a fleet check)."""
    root = ET.Element("testsuites", {"name": "truenprobe"})
    for i, report in enumerate(reports):
        root.append(_suite(report, names[i] if names else None))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
