"""The --html writer the report commands share."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.report.html_samples import report_for
from truenprobe.cli.html_report import invoked_command_line, write_html_report
from truenprobe.errors import InputFileError

WHEN = datetime(2026, 11, 27, 9, 30, 5, tzinfo=UTC)


def test_writes_the_report_with_the_redacted_command(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    report = report_for({"client": "web"})
    write_html_report(
        out,
        report,
        started_at=WHEN,
        command_line=["truenprobe", "check", "cam", "--password", "s3cret", "--html", str(out)],
    )
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "2026-11-27 09:30:05+00:00" in page
    assert "s3cret" not in page
    assert "--html" in page


def test_unwritable_path_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"cannot write HTML report .*missing"):
        write_html_report(
            tmp_path / "missing" / "r.html", report_for({"client": "web"}), started_at=WHEN
        )


def test_command_line_is_the_process_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["/opt/venv/bin/truenprobe", "check", "cam"])
    assert invoked_command_line() == ["truenprobe", "check", "cam"]
