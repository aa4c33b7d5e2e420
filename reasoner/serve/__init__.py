"""`reasoner serve`: a read-only SPARQL 1.1 endpoint over a cohort store, a researcher's page, and the CDS Hooks
services, as one Starlette application served by uvicorn.

    from reasoner.serve import Server, Settings, make_app
    with Server(make_app("cohort.db", settings=Settings(timeout=10)), port=8000) as server:
        ...                           # server.url: the page; server.url + "sparql": the endpoint
    Server(make_app("cohort.db"), port=8000).run()    # in the foreground, until Ctrl-C or SIGTERM

Queries and hook calls never run in the server process: each runs in a worker process under a wall-clock timeout
and a memory limit, so one that hangs or crashes costs only its worker (reasoner.serve._pool, _worker). What the
endpoint accepts and answers: reasoner.serve._endpoint; what a query may not do: reasoner.rdf.sparql_guard; what
every request passes first (strict HTTP, Host, Origin, body limits): reasoner.serve._asgi; the connection limits:
reasoner.serve._server; CDS Hooks: reasoner.serve._hooks, cds_hooks and _jwt.
"""

from __future__ import annotations

from reasoner.serve._asgi import Access
from reasoner.serve._endpoint import Settings
from reasoner.serve._hooks import HookOptions
from reasoner.serve._jwt import Authorisation
from reasoner.serve._server import App, Server, Tls, access_log, make_app

__all__ = ["Access", "App", "Authorisation", "HookOptions", "Server", "Settings", "Tls", "access_log", "make_app"]
