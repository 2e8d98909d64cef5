"""Keep a DuckDB store open for a moment after its last use, then let it go.

Why: every connection to a DuckDB store opens the file and reads its catalogue (13-25 ms on a
quiet machine, 25-120 ms on a busy one), and a dashboard page view makes some twenty of them as
its pages start (sign-in check, audit, lists, the filters' choices). Holding one extra connection
(opened like the first) keeps the database open in this process, so the connections that
follow within the moment cost ~0.1 ms each. The file is still let go soon after the last use, so
another process (a nightly ``carelens feedback load``, ``carelens db`` commands) gets its turn
as before: the keeper closes once the store has been idle for ``seconds``, and after
:data:`MAX_HOLD_SECONDS` of continuous use in any case (a busy server must not keep other
processes out for good; they wait for the file up to ``store_wait_seconds``).
"""

from __future__ import annotations

import threading
import time

MAX_HOLD_SECONDS = 5.0


class StoreLinger:
    """The keeper connection of one DuckDB engine and the timer that closes it."""

    def __init__(self, seconds: float, max_hold: float = MAX_HOLD_SECONDS):
        self.seconds = seconds
        self.max_hold = max_hold
        self._lock = threading.Lock()
        self._keeper = None
        self._opened = 0.0
        self._last = 0.0
        self._rest_until = 0.0
        self._timer: threading.Timer | None = None

    def opened(self, connect) -> None:
        """A connection to the store was just opened: keep the database open from now on.

        ``connect()`` opens another connection exactly as that one was opened. Why not the
        connection's ``duplicate()``: DuckDB's cache of open databases (which makes a connection
        to an open database cost ~0.1 ms) forgets a database once the connection that opened it
        closes, however many duplicates live on; a connection opened through the cache keeps the
        entry."""
        if self.seconds <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._last = now
            if self._keeper is None and now >= self._rest_until:
                try:
                    self._keeper = connect()
                except Exception:  # noqa: BLE001 - keeping the file open is an optimisation only
                    return
                self._opened = now
            self._arm(self.seconds)

    def used(self) -> None:
        """A connection was handed back: the idle time counts from now."""
        self._last = time.monotonic()

    @property
    def holding(self) -> bool:
        return self._keeper is not None

    def close(self) -> None:
        """Let the file go now (``carelens.db.release``; the server as it stops)."""
        with self._lock:
            self._close_keeper()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _arm(self, delay: float) -> None:
        if self._timer is None:
            self._timer = threading.Timer(max(delay, 0.01), self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            self._timer = None
            if self._keeper is None:
                return
            now = time.monotonic()
            idle = now - self._last
            if idle >= self.seconds or now - self._opened >= self.max_hold:
                self._close_keeper()
                # after a long hold, stay away for a moment so another process can take its turn
                self._rest_until = now + (self.seconds if idle < self.seconds else 0.0)
            else:
                self._arm(self.seconds - idle)

    def _close_keeper(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            try:
                keeper.close()
            except Exception:  # noqa: BLE001 - closing a connection the database already dropped
                pass
