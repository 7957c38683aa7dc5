from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest


def test_help_lists_plan(cli):
    result = cli("--help")
    assert result.returncode == 0
    assert "plan" in result.stdout


def test_no_arguments_shows_usage_and_exit_2(cli):
    result = cli()
    assert result.returncode == 2
    assert "Usage" in result.stdout + result.stderr


def test_unknown_option_is_one_line(cli):
    result = cli("plan", "--client", "web", "--bogus")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "--bogus" in result.stderr
    assert "Traceback" not in result.stderr


# --- Ctrl-C: one line, exit 130, whatever the command was doing ----------------------------


def _start(*args: str) -> subprocess.Popen[str]:
    """The real entry point (the camera's Ctrl-C test is in tests/camera)."""
    return subprocess.Popen(
        [sys.executable, "-m", "truenprobe", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _interrupt(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(60)
def test_ctrl_c_during_a_check_says_interrupted():
    # A server that accepts and never answers: the check waits for its greeting.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(30)
        port = silent.getsockname()[1]
        proc = _start(
            "check", "127.0.0.1", "--client", "web", "--http-port", str(port),
            "--timeout", "30", "--format", "json",
        )  # fmt: skip
        try:
            conn, _ = silent.accept()  # the check is connected and waiting
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        with conn:
            _out, err = _interrupt(proc)
    assert proc.returncode == 130
    assert err == "truenprobe: interrupted\n"
