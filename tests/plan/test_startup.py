"""`plan` must start fast (issue 2: within 1.5x of `import typer`).

Every command module is imported by the CLI at start, so each keeps its heavy imports
inside its function; this test names the modules a `plan` run may never load.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "scapy",  # over a second here
    "aiortsp",
    "asyncio_dgram",
    "yaml",
    "asyncio",  # only commands that do network I/O need an event loop
    "rich",  # only drawn output (tables, progress) needs it
    "truenprobe.camera",  # the server; its package and configuration are light (below)
    "truenprobe.capture",
    "truenprobe.probe.runner",
    "truenprobe.lab.system",
    "truenprobe.report.html",
)

# The CLI's camera options take their defaults from the configuration; the package's
# __init__ loads the server only on first use of EmulatedCamera.
LIGHT = {"truenprobe.camera", "truenprobe.camera.config"}


def _imported_by_plan() -> set[str]:
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "truenprobe",
            "plan",
            "--client",
            "decoder",
            "--protocol",
            "rtsp",
            "--transport",
            "udp",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }


def test_plan_json_imports_nothing_heavy():
    imported = _imported_by_plan()
    heavy = sorted(
        m for m in imported - LIGHT if any(m == h or m.startswith(h + ".") for h in HEAVY)
    )
    assert not heavy, heavy
