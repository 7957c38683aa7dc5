"""Secrets never reach a report: command lines, URLs, headers and evidence values."""

from __future__ import annotations

import pytest

from truenprobe.report.redact import (
    REDACTED,
    command_line_text,
    is_secret_name,
    redact_argv,
    redact_text,
    redact_value,
)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["truenprobe", "check", "203.0.113.5", "--user", "admin", "--password", "hunter2"],
            ["truenprobe", "check", "203.0.113.5", "--user", "admin", "--password", REDACTED],
        ),
        (["--password=hunter2"], [f"--password={REDACTED}"]),
        (["--PASSWORD", "x"], ["--PASSWORD", REDACTED]),
        (["--token", "t0k", "--api-key=k"], ["--token", REDACTED, f"--api-key={REDACTED}"]),
        (["--user", "admin:hunter2"], ["--user", f"admin:{REDACTED}"]),
        (["--user=admin:hunter2"], [f"--user=admin:{REDACTED}"]),
        (["--user", "admin"], ["--user", "admin"]),
        (
            ["rtsp://admin:hunter2@203.0.113.5:554/video1"],
            [f"rtsp://admin:{REDACTED}@203.0.113.5:554/video1"],
        ),
        (["http://viewer@203.0.113.5/"], ["http://viewer@203.0.113.5/"]),
        (["RTSP_PASSWORD=hunter2", "truenprobe"], [f"RTSP_PASSWORD={REDACTED}", "truenprobe"]),
        (["http://cam/x?user=a&password=hunter2"], [f"http://cam/x?user=a&password={REDACTED}"]),
        # The last word being an option with no value: nothing to hide, nothing lost.
        (["check", "--password"], ["check", "--password"]),
        # Not secrets: keep them exactly.
        (
            ["--keep", "--http-port", "8080", "--sdk-cameras", "4", "--client-port", "5000"],
            ["--keep", "--http-port", "8080", "--sdk-cameras", "4", "--client-port", "5000"],
        ),
    ],
)
def test_redact_argv(argv: list[str], expected: list[str]) -> None:
    assert redact_argv(argv) == expected


def test_command_line_from_a_string_is_shell_ready() -> None:
    text = command_line_text("truenprobe check cam --password 'a b c' --client web")
    assert text == f"truenprobe check cam --password '{REDACTED}' --client web"
    assert "a b c" not in text


def test_command_line_with_unbalanced_quotes_is_still_redacted() -> None:
    text = command_line_text("truenprobe check cam --password 'oops --client web")
    assert "oops" not in text


def test_redact_text_covers_urls_and_headers() -> None:
    text = redact_text(
        "GET rtsp://root:pa55@10.0.0.1/video1 Authorization: Digest username=x, response=abc"
    )
    assert "pa55" not in text
    assert "response=abc" not in text
    assert "root:" in text  # the user name stays: it helps and is not a secret


def test_redact_value_by_key_and_deeply() -> None:
    value = {
        "password": "hunter2",
        "nested": {"url": "rtsp://a:b@h/", "token": 123, "list": ["http://u:p@x/"]},
        "packets": 4,
        "auth": None,
    }
    out = redact_value("", value)
    assert out == {
        "password": REDACTED,
        "nested": {
            "url": f"rtsp://a:{REDACTED}@h/",
            "token": REDACTED,
            "list": [f"http://u:{REDACTED}@x/"],
        },
        "packets": 4,
        "auth": None,
    }


@pytest.mark.parametrize("name", ["password", "--password", "RTSP_PASS", "api-key", "Token"])
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["keep", "packets", "ssrc", "passes", "keyframes", "user"])
def test_not_secret_names(name: str) -> None:
    assert not is_secret_name(name)
