"""The matrix's table, JUnit XML and progress lines (pure: from ``matrix_dict``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from rich.console import Group
from rich.table import Table
from rich.text import Text

from truenprobe.lab.matrix import MatrixRow


def progress_line(row: MatrixRow, done: int, total: int) -> str:
    mark = "agree   " if row.judgement.agree else "DISAGREE"
    return (
        f"[{done}/{total}] {mark} {row.cell.name} ({row.result.duration_s:.1f} s): "
        f"{row.judgement.why}"
    )


def matrix_table(data: Mapping[str, Any]) -> Group:
    table = Table(title_justify="left")
    table.add_column("cell", overflow="fold")
    table.add_column("expect", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("why", overflow="fold")
    table.add_column("s", justify="right", no_wrap=True)
    for cell in data["cells"]:
        ok = cell["agree"]
        table.add_row(
            cell["cell"],
            cell["expect"],
            cell["verdict"] or "-",
            Text("ok" if ok else "DISAGREE", style="green" if ok else "bold red"),
            cell["why"],
            f"{cell['duration_s']:.1f}",
        )
    s = data["summary"]
    summary = (
        f"{s['cells']} cells: {s['agree']} agree, {s['disagree']} disagree; "
        f"{s['duration_s']:.0f} s with {s['jobs']} at a time"
    )
    parts: list[Text | Table] = [
        Text("truenprobe lab matrix", style="bold"),
        table,
        Text(summary, style="bold green" if s["disagree"] == 0 else "bold red"),
    ]
    parts += [Text(f"note: {n}", style="dim") for n in data["notes"]]
    return Group(*parts)


def matrix_junit(data: Mapping[str, Any]) -> str:
    """One testcase per cell; a disagreeing cell is a failure with its reason."""
    s = data["summary"]
    suite = ET.Element(
        "testsuite",
        name="truenprobe lab matrix",
        tests=str(s["cells"]),
        failures=str(s["disagree"]),
        time=f"{s['duration_s']:.1f}",
    )
    for cell in data["cells"]:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"lab.{cell['expect']}",
            name=cell["cell"],
            time=f"{cell['duration_s']:.2f}",
        )
        if not cell["agree"]:
            failure = ET.SubElement(case, "failure", message=cell["why"])
            failure.text = cell["why"]
        else:
            ET.SubElement(case, "system-out").text = cell["why"]
    suites = ET.Element("testsuites")
    suites.append(suite)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
