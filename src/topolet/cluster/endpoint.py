"""The HTTP endpoint of ``topolet cluster run`` (127.0.0.1 by default).

* ``/metrics`` -- every node's resource-manager metrics, Prometheus text (0.0.4);
* ``/readyz`` -- 200 once every node is registered and the pods bound before the start are
  re-admitted, 503 before; ``/healthz`` -- 200 while the process runs;
* ``/debug/nodes/NAME`` -- the node's kubelet state as JSON (checkpoints, running pods), what
  ``explain pod/NAME`` reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

Handler = Callable[[str], tuple[int, str, bytes]]

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler) -> None:
    try:
        line = await asyncio.wait_for(reader.readline(), 10)
        while True:  # headers
            h = await asyncio.wait_for(reader.readline(), 10)
            if h in (b"\r\n", b"\n", b""):
                break
        parts = line.decode("latin-1").split()
        if len(parts) < 2:
            return
        method, path = parts[0], parts[1]
        if method not in ("GET", "HEAD"):
            code, ctype, body = 405, "text/plain", b"method not allowed\n"
        else:
            code, ctype, body = handler(path.split("?", 1)[0])
        head = (
            f"HTTP/1.1 {code} {_REASONS.get(code, '')}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + (body if method == "GET" else b""))
        await writer.drain()
    except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def serve(host: str, port: int, handler: Handler) -> tuple[asyncio.AbstractServer, int]:
    server = await asyncio.start_server(lambda r, w: _handle(r, w, handler), host, port)
    bound = server.sockets[0].getsockname()[1]
    return server, int(bound)


def json_body(data: Any) -> bytes:
    return (json.dumps(data, indent=1) + "\n").encode()
