"""`reasoner serve`: a read-only SPARQL 1.1 endpoint over a cohort store, with a browser page.

    from reasoner.serve import Settings, make_server
    server = make_server("cohort.db", port=8000, settings=Settings(timeout=10, max_rows=5000))
    server.serve_forever()            # http://127.0.0.1:8000/ the page, /sparql the endpoint
    server.server_close()             # stops the query workers too

Queries never run in the server process: each runs in a worker process that opened the store read-only, under a
wall-clock timeout, a row cap and a memory limit, so a query that hangs or crashes costs only its worker
(reasoner.serve._pool). What the endpoint accepts and answers: reasoner.serve._endpoint; what a query may not do:
reasoner.rdf.sparql_guard.

`cds_hooks=CdsHooks()` (reasoner.serve.cds_hooks; `reasoner serve --cds-hooks`) adds the CDS Hooks services at
/cds-services. Routes share the server: a Route is a function of a Request returning a Response, mounted by path
(`server.mount("/cds-services/", route)`: a path ending in "/" takes everything under it). A route that holds
resources appends their release to `server.cleanups`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from reasoner.errors import ReasonerError
from reasoner.serve._endpoint import Endpoint, Settings
from reasoner.serve._http import Request, Response, Route, Server, text

if TYPE_CHECKING:
    from reasoner.serve.cds_hooks import CdsHooks

__all__ = ["Request", "Response", "Route", "Server", "Settings", "make_server", "serve", "text"]


def make_server(
    store: str | Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    settings: Settings | None = None,
    cds_hooks: CdsHooks | None = None,
) -> Server:
    """A server bound to host:port (0: any free port; see `server.url`) with the endpoint's routes mounted and its
    query workers started over the store directory `store`, and, given `cds_hooks`, the CDS Hooks services at
    /cds-services. Close it with server_close()."""
    if store is None and cds_hooks is None:
        raise ReasonerError("nothing to serve: give a store, CDS Hooks services, or both")
    settings = settings or Settings()
    endpoint = Endpoint(Path(store), settings) if store is not None else None
    try:
        server = Server((host, port), max_body=settings.max_body)
    except OSError as exc:
        if endpoint is not None:
            endpoint.close()
        raise ReasonerError(f"cannot listen on {host}:{port}: {exc}") from exc
    if endpoint is not None:
        server.cleanups.append(endpoint.close)
        for path, route in endpoint.routes().items():
            server.mount(path, route)
    if cds_hooks is not None:
        from reasoner.serve.cds_hooks import route as cds_route  # reasoner.serve.cds_hooks builds on this package

        server.mount("/cds-services", cds_route(cds_hooks))
        server.mount("/cds-services/", cds_route(cds_hooks))
    return server


def serve(
    store: str | Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: Settings | None = None,
    cds_hooks: CdsHooks | None = None,
    on_ready: Callable[[Server], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C), then stop the workers. `on_ready` is called once the server listens."""
    server = make_server(store, host=host, port=port, settings=settings, cds_hooks=cds_hooks)
    try:
        if on_ready is not None:
            on_ready(server)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
