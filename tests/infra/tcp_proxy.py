"""A TCP proxy between the app and PostgreSQL that a test can cut, freeze and restore.

- ``cut()``: every open connection is closed and new ones are closed on arrival, as when the
  database host is gone (the client sees the connection drop at once).
- ``freeze()``: connections stay open and new ones are accepted, but no byte passes either way,
  as with a hung database or a black-holed network (the client waits until its own timeout).
- ``lose_reply_after(marker)``: the next client message that contains ``marker`` (e.g. ``COMMIT``)
  reaches the server, but its answer never comes back and the connection then drops: the commit
  happened and the client cannot know.
- ``restore()``: back to normal for new traffic.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

CHUNK = 65536


class _Link:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.replies_lost = False

    def close(self) -> None:
        for sock in (self.client, self.server):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._cut = False
        self._flowing = threading.Event()
        self._flowing.set()
        self._marker: bytes | None = None
        self._closed = False
        self.connections = 0
        self._acceptor = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._acceptor.start()

    # The test's controls ------------------------------------------------------------------

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            links, self._links = self._links, []
        for link in links:
            link.close()

    def freeze(self) -> None:
        self._flowing.clear()

    def restore(self) -> None:
        with self._lock:
            self._cut = False
            self._marker = None
        self._flowing.set()

    def lose_reply_after(self, marker: bytes) -> None:
        with self._lock:
            self._marker = marker

    @contextmanager
    def frozen(self) -> Iterator[None]:
        self.freeze()
        try:
            yield
        finally:
            self.restore()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._flowing.set()
        self._listener.close()

    # The plumbing ----------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refused = self._cut
            if refused:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
                self.connections += 1
            for source, sink, upstream in ((client, server, True), (server, client, False)):
                threading.Thread(
                    target=self._pump, args=(link, source, sink, upstream), daemon=True
                ).start()

    def _pump(
        self, link: _Link, source: socket.socket, sink: socket.socket, upstream: bool
    ) -> None:
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                self._flowing.wait()
                if upstream:
                    with self._lock:
                        hit = self._marker is not None and self._marker in data
                        if hit:
                            self._marker = None
                    if hit:
                        link.replies_lost = True
                    sink.sendall(data)
                elif link.replies_lost:
                    # The server's answer to the marked message: it was processed (the commit
                    # happened). Drop the answer and the link, so the client cannot know. (Closing
                    # before the answer could reset the connection before the server read it.)
                    break
                else:
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            link.close()
            with self._lock:
                if link in self._links:
                    self._links.remove(link)
