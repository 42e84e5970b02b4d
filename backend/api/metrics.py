"""``/metrics``: Prometheus figures for the operators, not for the public.

Open to the operator networks (``PLUME_METRICS_ALLOWED_NETWORKS``, loopback by default)
or to a bearer token (``PLUME_METRICS_TOKEN``); 403 otherwise. The figures come from
PostgreSQL (see :mod:`backend.audit.metrics`), so every gunicorn worker serves the same
totals. Behind a reverse proxy, the client address is the proxy's unless the deployment
trusts its forwarding headers (``ProxyFix``); a token is then the simpler choice.
"""
from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from flask import Blueprint, Response, current_app, request

from .. import db
from ..audit import metrics, spool
from ..errors import Forbidden, ServiceUnavailable

bp = Blueprint("metrics", __name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A scrape waits this long for a database connection, then answers the spool's figures only.
DATABASE_WAIT_SECONDS = 2.0


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _allowed() -> bool:
    config = current_app.config
    token = config.get("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(
            header[len("Bearer "):].strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address((request.remote_addr or "").split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network
               for network in _networks(tuple(config["METRICS_ALLOWED_NETWORKS"] or ())))


@bp.get("/metrics")
def prometheus_metrics():
    """Counters and histograms of AI interactions in Prometheus text format."""
    if not _allowed():
        raise Forbidden("Les métriques sont réservées au réseau d'exploitation.",
                        detail=f"/metrics refused for {request.remote_addr}")
    try:
        with db.connection(timeout=DATABASE_WAIT_SECONDS) as conn:
            body = metrics.render(conn)
    except ServiceUnavailable:
        # The database is away: the figures it keeps come back with it, and the records
        # piling up in the spool are what the operator must see now.
        body = ""
    body += metrics.render_spool(spool.status(current_app))
    return Response(body, content_type=CONTENT_TYPE)


OPENAPI = {
    "/metrics": {"get": {
        "summary": "Prometheus metrics (operator networks or bearer token)",
        "tags": ["ops"],
        "security": [],
        "responses": {"200": {"description": "Prometheus text format 0.0.4",
                              "content": {"text/plain": {}}},
                      "403": {"description": "Not from an operator network and no valid token"}},
    }},
}
