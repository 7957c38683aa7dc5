"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe).

Why the pipe: it needs no port (tests run in parallel on a shared machine), no websocket
library and no extra dependency, and every DevTools event reaches us: console messages,
uncaught exceptions and network requests arrive as structured data instead of being
scraped from a log. Chromium reads commands on fd 3 and writes answers and events on
fd 4, each message a JSON object followed by a NUL byte.

Every wait is bounded; ``close()`` ends the browser it started (by pid) and removes its
profile directory.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "chromium"

# Quiet and offline; --no-sandbox because the sandbox refuses to run as root.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
    # No name ever resolves: a page that tried to fetch something fails locally, and a
    # test can never reach a server by accident.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


class ChromiumError(RuntimeError):
    pass


@dataclass
class PageLoad:
    """What happened while a page loaded: the DevTools events worth judging."""

    console: list[dict[str, Any]] = field(default_factory=list)  # Runtime.consoleAPICalled
    exceptions: list[dict[str, Any]] = field(default_factory=list)  # Runtime.exceptionThrown
    log: list[dict[str, Any]] = field(default_factory=list)  # Log.entryAdded
    requests: list[str] = field(default_factory=list)  # every URL the page asked for

    def errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, browser log errors/warnings."""
        out = []
        for call in self.console:
            if call.get("type") in ("error", "warning", "assert"):
                args = call.get("args", [])
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in args)
                out.append(f"console.{call['type']}: {text}")
        for exc in self.exceptions:
            details = exc.get("exceptionDetails", {})
            desc = details.get("exception", {}).get("description") or details.get("text")
            out.append(f"exception: {desc}")
        for entry in self.log:
            if entry.get("level") in ("error", "warning"):
                out.append(f"log.{entry['level']} ({entry.get('source')}): {entry.get('text')}")
        return out


class Chromium:
    """One headless browser with one page; use as a context manager."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="truenprobe-html-chromium-")
        self._log_path = Path(self._profile) / "chromium.log"
        self._next_id = 0
        self._pending: list[dict[str, Any]] = []  # events read while waiting for an answer
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.process: subprocess.Popen[bytes] | None = None
        self._to_chrome = self._from_chrome = -1
        try:
            self._start()
            self.session = self._open_page()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # A small Python trampoline puts our pipe ends on fds 3 and 4, where Chromium
        # expects them (dash cannot redirect fds above 9; copying both ends first keeps
        # one from overwriting the other).
        trampoline = (
            "import os, sys; a, b = os.dup(int(sys.argv[1])), os.dup(int(sys.argv[2])); "
            "os.dup2(a, 3); os.dup2(b, 4); os.set_inheritable(3, True); "
            "os.set_inheritable(4, True); os.execvp(sys.argv[3], sys.argv[3:])"
        )
        argv = [
            *FLAGS,
            f"--user-data-dir={self._profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        with open(self._log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    trampoline,
                    str(to_chrome_r),
                    str(from_chrome_w),
                    CHROMIUM,
                    *argv,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(to_chrome_r, from_chrome_w),
                start_new_session=True,  # its helpers share its group: close() ends them all
            )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._messages.put(None)
                return
            buffer += chunk
            *complete, buffer = buffer.split(b"\0")
            for raw in complete:
                self._messages.put(json.loads(raw))

    def log_text(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _receive(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        try:
            message = self._messages.get(timeout=max(remaining, 0.001))
        except queue.Empty:
            raise ChromiumError(f"chromium did not answer within {self.timeout} s") from None
        if message is None:
            raise ChromiumError(f"chromium closed its pipe; log tail: {self.log_text()[-1500:]}")
        return message

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        """Send one command and wait (bounded) for its answer; events are kept for later."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        try:
            os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise ChromiumError(
                f"chromium exited (code {self.process and self.process.poll()}); "
                f"log tail: {self.log_text()[-1500:]}"
            ) from None
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise ChromiumError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            if "method" in answer:
                self._pending.append(answer)

    def page(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.call(method, params, session=self.session)

    def _open_page(self) -> str:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session: str = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        return session

    # --- what the tests use ---------------------------------------------------------

    def load(self, path: Path) -> PageLoad:
        """Open a file and wait for its load event, recording what happened on the way."""
        self._pending.clear()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.page(f"{domain}.enable")
        self.page("Page.navigate", {"url": path.resolve().as_uri()})
        deadline = time.monotonic() + self.timeout
        loaded = False
        events: list[dict[str, Any]] = []
        while not loaded:
            event = self._pending.pop(0) if self._pending else self._receive(deadline)
            events.append(event)
            loaded = event.get("method") == "Page.loadEventFired"
        # Let anything queued during load (a late console call) arrive: a round trip
        # through the page's own event loop flushes it.
        self.evaluate("new Promise(r => setTimeout(r, 0))", await_promise=True)
        events += self._pending
        self._pending.clear()
        result = PageLoad()
        for event in events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                result.console.append(params)
            elif method == "Runtime.exceptionThrown":
                result.exceptions.append(params)
            elif method == "Log.entryAdded":
                result.log.append(params["entry"])
            elif method == "Network.requestWillBeSent":
                result.requests.append(params["request"]["url"])
        return result

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        """A JavaScript expression's value in the page (JSON-serialisable values only)."""
        answer = self.page(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
        )
        if "exceptionDetails" in answer:
            raise ChromiumError(f"evaluate failed: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def screenshot(self, path: Path, width: int = 1200, media: str = "screen") -> Path:
        """A PNG of the whole page at a given width, as on screen or as printed."""
        self.page("Emulation.setEmulatedMedia", {"media": media})
        metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": False}
        self.page("Emulation.setDeviceMetricsOverride", metrics)
        # Measured at the width it will be drawn at: text wraps differently elsewhere.
        metrics["height"] = int(self.evaluate("document.documentElement.scrollHeight"))
        self.page("Emulation.setDeviceMetricsOverride", metrics)
        try:
            shot = self.page(
                "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
            )
        finally:  # an emulated "screen" would otherwise apply to printing as well
            self.page("Emulation.setEmulatedMedia", {"media": ""})
            self.page("Emulation.clearDeviceMetricsOverride")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def print_pdf(self, path: Path, *, paper: str = "a4") -> Path:
        """Print as a browser does with default margins; the page's @page rules apply."""
        width, height = {"a4": (8.27, 11.69), "letter": (8.5, 11.0)}[paper]
        pdf = self.page(
            "Page.printToPDF",
            {
                "paperWidth": width,
                "paperHeight": height,
                "printBackground": True,
                "preferCSSPageSize": True,
                "displayHeaderFooter": False,
            },
        )
        path.write_bytes(base64.b64decode(pdf["data"]))
        return path

    def close(self) -> None:
        """Ask the browser to quit, then make sure it and its helper processes are gone."""
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(ChromiumError, OSError):
                    self.timeout = 5.0
                    self.call("Browser.close")
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            # Helpers (renderer, zygote) live in the group we created for this browser.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, 9)
        for fd in (self._to_chrome, self._from_chrome):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._to_chrome = self._from_chrome = -1
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pdf_page_count(data: bytes) -> int:
    """Pages in a PDF Chromium wrote (Skia writes each page object uncompressed)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
