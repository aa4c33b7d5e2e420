"""CDS Hooks 2.0 authorisation: every service call carries `Authorization: Bearer <JWT>` signed by the EHR, and
the service checks it with PyJWT before anything else runs:

- the signature, by the key the token's `kid` names in the EHR's JWK Set (a local file: the service fetches
  nothing, so the EHR's published keys are saved beside it), with ES384 or RS384 (the algorithms CDS Hooks names);
- `iss`: one of the trusted issuers (every issuer is trusted when none is named: the key file decides);
- `aud`: this service's own URL, as the EHR called it (behind a proxy: the proxy must pass Host and the scheme);
- `exp` and `iat` present, the token not expired and living at most five minutes (CDS Hooks' limit), with
  `leeway` seconds for clocks;
- `jti` present and never seen before while the token lives: a replayed token is refused.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import jwt

from reasoner.errors import ReasonerError

__all__ = ["ALGORITHMS", "Authorisation", "Refused"]

ALGORITHMS = ("ES384", "RS384")
_LIFETIME = 300  # seconds: CDS Hooks 2.0 says the token expires no more than 5 minutes after it is issued


class Refused(Exception):
    """The call is not authorised: the message says why (never the token itself)."""


class Authorisation:
    """The keys and issuers calls are checked against; `check` refuses or returns the token's claims."""

    def __init__(self, jwks: Path, issuers: tuple[str, ...] = (), *, leeway: float = 30.0) -> None:
        try:
            keys = jwt.PyJWKSet.from_dict(json.loads(jwks.read_text(encoding="utf-8")))
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            raise ReasonerError(f"{jwks}: not a readable JWK Set: {exc}") from exc
        self.keys = {k.key_id: k for k in keys.keys if k.key_id}
        if not self.keys:
            raise ReasonerError(f"{jwks}: no key with a kid: the EHR's JWT names its key by kid")
        self.issuers, self.leeway = issuers, leeway
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, header: str | None, audience: str) -> dict[str, object]:
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused("this CDS service needs Authorization: Bearer <JWT> (CDS Hooks 2.0)")
        try:
            kid = jwt.get_unverified_header(token.strip()).get("kid")
            key = self.keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise Refused(f"the JWT names no key of the trusted EHR key set (kid {kid!r})")
            claims: dict[str, object] = jwt.decode(
                token.strip(),
                key,
                algorithms=list(ALGORITHMS),
                audience=audience,
                issuer=list(self.issuers) or None,
                leeway=self.leeway,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise Refused(f"the JWT is not valid: {exc}") from None
        issued, expires, jti = claims["iat"], claims["exp"], claims["jti"]
        assert isinstance(issued, int | float) and isinstance(expires, int | float)
        if expires - issued > _LIFETIME + self.leeway:
            raise Refused(f"the JWT lives {expires - issued:g} s; CDS Hooks allows at most {_LIFETIME} s")
        self._once(str(jti), float(expires))
        return claims

    def _once(self, jti: str, expires: float) -> None:
        """Refuse a jti seen before; forget those whose tokens have expired."""
        now = time.time()
        with self._lock:
            for old in [j for j, until in self._seen.items() if until + self.leeway < now]:
                del self._seen[old]
            if jti in self._seen:
                raise Refused("the JWT was used before (its jti is replayed)")
            self._seen[jti] = expires
