"""Reading the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.audit import AUDIT_RETENTION, AuditEvent, AuditQuery, audit_matches
from chalicelib.core.domain.errors import InvalidInput, Problem
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.core.ports import AuditLog


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class AuditService:
    def __init__(self, log: AuditLog, clock: Callable[[], datetime]) -> None:
        self.log = log
        self.clock = clock

    def list(self, actor: Actor, query: AuditQuery, page: PageRequest) -> Page[AuditEvent]:
        now = self.clock()
        until = _utc(query.until) if query.until else now
        since = _utc(query.since) if query.since else until - AUDIT_RETENTION
        if since > until:
            raise InvalidInput([Problem("request-invalid-query-parameter", "A query parameter is invalid.", "from",
                                        "`from` must not be later than `to`.")])  # fmt: skip
        events = [e for e in self.log.between(actor.project_id, since, until) if audit_matches(e, query)]
        return paginate(events, page)
