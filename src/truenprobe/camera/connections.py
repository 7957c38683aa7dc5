"""Keeping many idle connections from locking clients out.

Each listener has a cap. When a new connection arrives at the cap, the connection
idle the longest that is not carrying a session is closed to make room; idle ones
also close by themselves after a bound. So a thousand silent sockets cannot stop
the next client from playing.
"""

from __future__ import annotations

from typing import Protocol


class Evictable(Protocol):
    last_activity: float

    @property
    def busy(self) -> bool: ...  # carries a session: never evicted

    def close(self) -> None: ...


class ConnectionPool:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.members: set[Evictable] = set()
        self.evicted = 0
        self.refused = 0

    def __len__(self) -> int:
        return len(self.members)

    def admit(self, connection: Evictable) -> bool:
        """Add a connection, closing the longest-idle one if needed; False: refuse it."""
        if len(self.members) >= self.limit:
            idle = [c for c in self.members if not c.busy]
            if not idle:
                self.refused += 1
                return False
            victim = min(idle, key=lambda c: c.last_activity)
            self.members.discard(victim)
            victim.close()
            self.evicted += 1
        self.members.add(connection)
        return True

    def remove(self, connection: Evictable) -> None:
        self.members.discard(connection)

    def close_all(self) -> None:
        for connection in list(self.members):
            connection.close()
        self.members.clear()
