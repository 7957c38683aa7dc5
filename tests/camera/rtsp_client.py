"""A minimal RTSP client for the camera's tests, built on the shared codec."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from truenprobe.rtsp import (
    CLOSED,
    NEED_DATA,
    Headers,
    InterleavedFrame,
    MessageReader,
    Request,
    Response,
)


@dataclass
class RawClient:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    cseq: int = 0
    frames: list[InterleavedFrame] = field(default_factory=list)
    parser: MessageReader = field(default_factory=MessageReader.for_client)

    @classmethod
    async def connect(cls, host: str, port: int) -> RawClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
        return cls(reader, writer)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Response:
        self.cseq += 1
        items = [("CSeq", str(self.cseq)), *(headers or {}).items()]
        await self.send_raw(Request(method, url, Headers(tuple(items)), body).to_bytes())
        return await self.response()

    async def response(self, within: float = 5.0) -> Response:
        async with asyncio.timeout(within):
            while True:
                event = self.parser.next_event()
                if isinstance(event, Response):
                    return event
                if isinstance(event, InterleavedFrame):
                    self.frames.append(event)
                    continue
                if event is CLOSED:
                    raise ConnectionError("the camera closed the connection")
                assert event is NEED_DATA
                self.parser.receive_data(await self.reader.read(65536))

    async def read_frames(self, count: int, within: float = 10.0) -> list[InterleavedFrame]:
        async with asyncio.timeout(within):
            while len(self.frames) < count:
                event = self.parser.next_event()
                if isinstance(event, InterleavedFrame):
                    self.frames.append(event)
                elif event is NEED_DATA:
                    self.parser.receive_data(await self.reader.read(65536))
                elif event is CLOSED:
                    raise ConnectionError("closed")
        return self.frames

    async def closed(self, within: float = 5.0) -> bool:
        """True when the camera closes the connection within ``within`` seconds."""
        try:
            async with asyncio.timeout(within):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(self.writer.wait_closed(), 2)


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until ``check()`` holds, polling; TimeoutError after ``within`` seconds.

    The camera's state has no event to await from outside, so this polls (bounded).
    """
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
