"""How long the analytics bucket keeps raw player events and the hourly rollup, from CDK context:

    cdk deploy -c videoplane:rawEventRetentionDays=60 -c videoplane:rollupRetentionDays=730

Defaults: `resources.ANALYTICS_RAW_RETENTION_DAYS` (30, as api.video) and
`resources.ANALYTICS_ROLLUP_RETENTION_DAYS` (400). The rollup never expires before the raw events
it is made of. Athena's partition projection on the raw events covers the raw retention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from constructs import Node

from chalicelib.core import resources

RAW_CONTEXT = "videoplane:rawEventRetentionDays"
ROLLUP_CONTEXT = "videoplane:rollupRetentionDays"


@dataclass(frozen=True)
class Retention:
    raw_days: int = resources.ANALYTICS_RAW_RETENTION_DAYS
    rollup_days: int = resources.ANALYTICS_ROLLUP_RETENTION_DAYS

    @classmethod
    def of(cls, node: Node) -> Retention:
        raw = _days(node, RAW_CONTEXT, resources.ANALYTICS_RAW_RETENTION_DAYS)
        rollup = _days(node, ROLLUP_CONTEXT, resources.ANALYTICS_ROLLUP_RETENTION_DAYS)
        if rollup < raw:
            raise ValueError(f"{ROLLUP_CONTEXT} ({rollup}) must be at least {RAW_CONTEXT} ({raw})")
        return cls(raw, rollup)

    def lifecycle(self) -> dict[str, Any]:
        return resources.analytics_lifecycle(self.raw_days, self.rollup_days)


def _days(node: Node, key: str, default: int) -> int:
    value = node.try_get_context(key)
    if value is None:
        return default
    days = int(value)
    if days < 1:
        raise ValueError(f"{key} must be a whole number of days, at least 1 (got {value!r})")
    return days
