"""The API client: lightkube's asyncio client, retries with backoff, and informers.

:func:`call` retries what a kubelet retries: 429 (with the server's
Retry-After), 5xx, 409 conflicts where the caller says a fresh attempt is
right, and connection errors while the API server restarts -- with capped
exponential backoff, without end for the loops that must go on (lease,
status) and a bounded number of tries elsewhere.

:class:`Informer` lists, then watches from the list's resourceVersion with
bookmarks (``allowWatchBookmarks``), re-watches from the last version seen
when the server closes the stream or the connection breaks, and re-lists on
410 Gone (an expired version), handing the full list to ``on_list`` so that
objects deleted during the gap are noticed -- what client-go's reflector
does. lightkube's public ``watch`` re-watches from "now" after a 410, which
would miss those deletions, so the watch request is built with its request
builder here.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

try:  # lightkube >= 1.0 uses the httpx2 fork
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.core.generic_client import ListAsyncIterable

log = logging.getLogger("topolet.cluster")


def watch_event(line: str | bytes, res: Any) -> tuple[str, Any, str | None]:
    """One line of a watch stream: (type, the decoded object or None for a BOOKMARK, resourceVersion).

    A BOOKMARK carries only a resourceVersion; the API server sends it as an object skeleton
    (``spec.containers: null`` for a Pod) that lightkube's typed decoder refuses, so it is never
    decoded as the resource. An ERROR event raises the API server's Status as an ApiError.
    """
    import msgspec
    from lightkube.core import decoders

    event = decoders.decode_watch_event(line)
    if event.type == "ERROR":
        raise ApiError(status=decoders.decode_status(event.object))
    if event.type == BOOKMARK:
        meta = msgspec.json.decode(event.object).get("metadata") or {}
        return BOOKMARK, None, meta.get("resourceVersion") or None
    obj = decoders.decode_object(event.object, res)
    rv = getattr(obj.metadata, "resourceVersion", None) if obj.metadata is not None else None
    return event.type, obj, rv


T = TypeVar("T")

RETRYABLE = {429, 500, 502, 503, 504}
BOOKMARK = "BOOKMARK"


class GiveUp(Exception):
    """An API call that failed for good (the message says what and why)."""


def api_failure(e: BaseException) -> str | None:
    """The message for an API call that failed for good (an ApiError, a connection or HTTP error), or None
    for any other exception."""
    if isinstance(e, ApiError):
        return f"{e.status.code} {e.status.reason or ''}: {e.status.message or e}".replace(" :", ":")
    if isinstance(e, httpx.HTTPError):
        return f"{type(e).__name__}: {e}"
    return None


def status_code(e: BaseException) -> int:
    if isinstance(e, ApiError):
        return int(e.status.code or 0)
    return 0


KEEPALIVE = 48  # connections kept open by default: above the calls in flight, so that none pays a new TLS handshake


def make_client(kubeconfig: str | None, connections: int = KEEPALIVE) -> AsyncClient:
    """lightkube's asyncio client for ``kubeconfig`` (None: the environment's), keeping ``connections`` open.

    ``connections`` should be the calls in flight at most, plus the watches: more costs CPU in every
    request (the pool scans its connections), fewer opens and closes TLS connections under load."""
    config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
    client = AsyncClient(config=config, field_manager="topolet", timeout=httpx.Timeout(30.0))
    # lightkube's httpx client keeps 20 idle connections (httpx's default); with more calls in flight every
    # extra call opened and closed a TLS connection, which costs the API server more than the call itself.
    # Rebuilt with lightkube's own connection parameters (server, CA, credentials) and a larger pool.
    try:
        from lightkube.config.client_adapter import ConnectionParams

        inner = client._client
        params = ConnectionParams(timeout=httpx.Timeout(30.0)).httpx_params(inner.config)
        old = inner._client
        inner._client = httpx.AsyncClient(
            **params, limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        )
        del old  # never used: nothing to close
    except (AttributeError, TypeError, ImportError) as e:  # another lightkube: keep its client
        log.warning("cannot enlarge the connection pool (%s); keeping lightkube's", e)
    return client


STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"


async def send_raw(client: AsyncClient, method: str, path: str, body: Any, content_type: str = MERGE) -> int:
    """One request with ``body`` encoded as JSON, its answer not decoded: the calls made for every pod and
    every lease (pod status patches, lease renewals, NodeResourceTopology updates) skip lightkube's typed
    request and response layers, which cost more CPU than the rest of the call. ``path`` is relative to
    the API server (``api/v1/...``). Raises as lightkube does (ApiError with the server's Status)."""
    import msgspec

    inner = client._client
    req = inner._client.build_request(
        method, path, content=msgspec.json.encode(body), headers={"Content-Type": content_type}
    )
    resp = await inner.send(req)
    inner.raise_for_status(resp)
    return int(resp.status_code)


async def call(
    fn: Callable[[], Awaitable[T]],
    what: str,
    *,
    tries: int | None = 8,
    retry_conflict: bool = False,
    stop: asyncio.Event | None = None,
) -> T:
    """``fn()`` with retries; raises the last ApiError for a non-retryable status (404, 422, ...)."""
    delay = 0.2
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn()
        except ApiError as e:
            code = status_code(e)
            if not (code in RETRYABLE or (code == 409 and retry_conflict)):
                raise
            wait = delay
            retry_after = e.response.headers.get("Retry-After") if e.response is not None else None
            if code == 429 and retry_after and retry_after.isdigit():
                wait = max(wait, float(retry_after))
            err: BaseException = e
        except httpx.HTTPStatusError as e:  # an error answer that is not the API server's Status (a proxy's)
            if e.response.status_code not in RETRYABLE:
                raise GiveUp(f"{what}: {e}") from e
            wait = delay
            err = e
        except (httpx.TransportError, httpx.TimeoutException) as e:
            wait = delay
            err = e
        if tries is not None and attempt >= tries:
            raise GiveUp(f"{what}: {err}") from err
        if attempt in (3, 10) or attempt % 50 == 0:
            log.warning("%s: %s; retrying (attempt %d)", what, err or type(err).__name__, attempt)
        if stop is not None and stop.is_set():
            raise GiveUp(f"{what}: stopped")
        await asyncio.sleep(wait * (0.5 + random.random()))
        delay = min(delay * 2, 5.0)


class Informer:
    """List + watch of one resource kind (see the module docstring)."""

    def __init__(
        self,
        client: AsyncClient,
        res: Any,
        *,
        on_list: Callable[[list[Any]], Awaitable[None]],
        on_event: Callable[[str, Any], Awaitable[None]],
        fields: dict[str, Any] | None = None,
        labels: dict[str, Any] | None = None,
        name: str = "",
        watch_timeout: int = 300,
    ) -> None:
        self.client = client
        self.res = res
        self.on_list = on_list
        self.on_event = on_event
        self.fields = fields
        self.labels = labels
        self.name = name or getattr(res, "__name__", "objects")
        self.watch_timeout = watch_timeout
        self.version: str | None = None
        from lightkube.core import resource as lkr

        # every namespace for namespaced kinds; cluster-scoped kinds take no namespace
        self.namespace = "*" if issubclass(res, (lkr.NamespacedResource, lkr.NamespacedResourceG)) else None
        self.relists = 0
        self.rewatches = 0

    async def _list(self) -> list[Any]:
        it = self.client.list(
            self.res, namespace=self.namespace, fields=self.fields, labels=self.labels, chunk_size=500
        )
        assert isinstance(it, ListAsyncIterable)
        items = [o async for o in it]
        self.version = it.resourceVersion
        return items

    def _watch_request(self) -> Any:
        from lightkube.core.selector import build_selector

        inner = self.client._client  # lightkube's generic client: its request builder and watch driver
        params: dict[str, Any] = {
            "timeoutSeconds": self.watch_timeout,
            "resourceVersion": self.version,
            "allowWatchBookmarks": "true",
            "labelSelector": build_selector(self.labels) if self.labels else None,
            "fieldSelector": build_selector(self.fields, for_fields=True) if self.fields else None,
        }
        return inner.prepare_request("list", res=self.res, namespace=self.namespace, watch=True, params=params)

    async def _events(self) -> AsyncIterator[tuple[str, Any]]:
        """One watch stream: (type, object) per event (:func:`watch_event`), the resourceVersion kept."""
        from lightkube.core.generic_client import WatchDriver

        inner = self.client._client
        wd = WatchDriver(self._watch_request(), inner._client.build_request)
        resp = await inner.send(wd.get_request(timeout=inner._watch_timeout), stream=True)
        try:
            if (
                resp.is_error
            ):  # as lightkube's requests do: an ApiError with the API server's Status (410 Gone: re-list)
                await resp.aread()
                inner.raise_for_status(resp)
            async for line in resp.aiter_lines():
                typ, obj, rv = watch_event(line, self.res)
                if rv:
                    self.version = rv
                yield typ, obj
        finally:
            await resp.aclose()

    async def run(self, stop: asyncio.Event) -> None:
        need_list = True
        delay = 0.2
        while not stop.is_set():
            try:
                if need_list:
                    items = await self._list()
                    await self.on_list(items)
                    need_list = False
                    self.relists += 1
                async for typ, obj in self._events():
                    if typ != BOOKMARK:
                        await self.on_event(typ, obj)
                    delay = 0.2
                    if stop.is_set():
                        return
                self.rewatches += 1  # the server closed the stream (timeout): watch again from the last version
            except ApiError as e:
                if status_code(e) == 410:
                    log.info("%s watch: resourceVersion %s expired (410 Gone); re-listing", self.name, self.version)
                    need_list = True
                    continue
                log.warning("%s watch: %s; retrying", self.name, e)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 5.0)
                if status_code(e) not in RETRYABLE:
                    need_list = True
            except (httpx.TransportError, httpx.TimeoutException, httpx.HTTPError) as e:
                log.warning("%s watch: %s; retrying", self.name, e or type(e).__name__)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 5.0)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a handler's bug must not stop the kubelets: log it, re-list
                log.exception("%s informer: %s; re-listing", self.name, e)
                need_list = True
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 5.0)
