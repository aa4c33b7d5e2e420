"""The CDS Hooks services (reasoner.serve.cds_hooks) on the server: discovery at GET /cds-services, calls at
POST /cds-services/{id} and feedback at POST /cds-services/{id}/feedback, each answered by a worker process
(reasoner.serve._worker, kind HOOKS) under the time and memory limits and a bounded queue (503 with Retry-After when
it is full), and each call and feedback authorised as CDS Hooks 2.0 says, by the EHR's signed JWT
(reasoner.serve._jwt), unless the server runs with no authorisation. Feedback is kept nowhere but the
"reasoner.serve.feedback" logger: one JSON line per entry, without the clinician's free-text comment
(reasoner.serve._feedback).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reasoner.serve._endpoint import Settings, run_in_pool
from reasoner.serve._jwt import Authorisation, Refused
from reasoner.serve._pool import PoolSettings, WorkerPool
from reasoner.serve._worker import HOOKS, HookAnswer, HookCall, Refusal

__all__ = ["HookOptions", "Hooks"]

_FEEDBACK = logging.getLogger("reasoner.serve.feedback")


@dataclass(frozen=True)
class HookOptions:
    """What the CDS services apply: the jurisdiction's sources, and a fixed evaluation date (None: the day of each
    call). `authorisation`: how calls are authorised; None runs with none (`--insecure-no-auth`)."""

    jurisdiction: str = "US"
    as_of: date | None = None
    authorisation: Authorisation | None = None


class Hooks:
    """The CDS Hooks routes and the worker pool answering them."""

    def __init__(self, options: HookOptions, settings: Settings) -> None:
        self.options = options
        pool = PoolSettings(settings.hook_workers, settings.hook_timeout, 0.0, settings.hook_queue, settings.memory)
        as_of = options.as_of.isoformat() if options.as_of else ""
        self.pool = WorkerPool(HOOKS, (options.jurisdiction, as_of), "the CDS Hooks services", pool)
        self.limiter = anyio.CapacityLimiter(settings.hook_queue + settings.hook_workers)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/cds-services", self.discovery, methods=["GET"]),
            Route("/cds-services/{service}", self.call, methods=["POST"]),
            Route("/cds-services/{service}/feedback", self.feedback, methods=["POST"]),
        ]

    def close(self) -> None:
        self.pool.close()

    async def discovery(self, request: Request) -> Response:
        return await self._answer(request, HookCall(None))

    async def call(self, request: Request) -> Response:
        return await self._posted(request, feedback=False)

    async def feedback(self, request: Request) -> Response:
        return await self._posted(request, feedback=True)

    async def _posted(self, request: Request, *, feedback: bool) -> Response:
        if self.options.authorisation is not None:
            try:
                self.options.authorisation.check(request.headers.get("authorization"), str(request.url))
            except Refused as exc:
                return JSONResponse({"error": str(exc)}, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return JSONResponse({"error": "send the hook request as application/json"}, 415)
        call = HookCall(request.path_params["service"], await request.body(), feedback)
        return await self._answer(request, call)

    async def _answer(self, request: Request, call: HookCall) -> Response:
        outcome = await run_in_pool(self.pool, self.limiter, call, request)
        if outcome is None:
            return JSONResponse({"error": "the client closed the connection"}, 499)
        if isinstance(outcome, Refusal):
            headers = {"Retry-After": "5"} if outcome.status == 503 else None
            return JSONResponse({"error": outcome.message}, outcome.status, headers)
        assert isinstance(outcome, HookAnswer)
        for record in outcome.log:
            _FEEDBACK.info(json.dumps(record))
        return JSONResponse(outcome.body, outcome.status)
