"""The audit log in the project's partition."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chalicelib.core.adapters import records
from chalicelib.core.adapters.dynamodb import Table, project_partition
from chalicelib.core.clock import to_atom
from chalicelib.core.domain.audit import AuditEvent


class DynamoAuditLog:
    def __init__(self, table: Table) -> None:
        self.table = table

    def append(self, event: AuditEvent) -> None:
        self.table.write([records.audit_put(event)])

    def between(self, project_id: str, since: datetime, until: datetime) -> Sequence[AuditEvent]:
        # "~" sorts after every character used in event ids, so the upper bound is inclusive.
        bounds = (to_atom(since), f"{to_atom(until)}#~")
        items = self.table.query(project_partition(project_id, "AUDIT"), sk_between=bounds, forward=False)
        return [records.audit_from_item(item) for item in items]
