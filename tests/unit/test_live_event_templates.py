"""Live event templates: the profile, versions, and which overrides a template allows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chalicelib.core.domain.errors import InvalidInput
from chalicelib.live.domain import live_event_templates as templates
from chalicelib.live.domain.live_event_templates import LiveEventTemplateCreation, ProfileOverrides

NOW = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


def template(**fields: object) -> templates.LiveEventTemplate:
    return templates.new_template("pr1", LiveEventTemplateCreation.model_validate({"name": "t", **fields}), NOW)


def test_a_new_template_is_version_one_and_every_change_bumps_it() -> None:
    created = template()
    assert created.version == 1 and created.template_id.startswith("lt")
    changed = templates.apply_update(created, {"record": True}, NOW)
    assert changed.version == 2 and changed.record is True and created.record is False


def test_the_ladder_is_sorted_highest_first_and_heights_are_unique() -> None:
    created = template(ladder=[{"height": 360, "bitrate": 800_000}, {"height": 720, "bitrate": 3_000_000}])
    assert [r.height for r in created.ladder] == [720, 360]
    with pytest.raises(ValidationError):
        template(ladder=[{"height": 360, "bitrate": 800_000}] * 2)


def test_allowed_overrides_apply_on_top_of_the_template() -> None:
    base = template(allowOverrides=["record", "failover"], segmentSeconds=4)
    overrides = ProfileOverrides.model_validate({"record": True, "failover": {"inputLossMs": 500}})
    applied = templates.applied_profile(base, overrides)
    assert applied.record is True and applied.failover.input_loss_ms == 500 and applied.segment_seconds == 4


def test_a_forbidden_override_is_refused_naming_each_field() -> None:
    base = template(allowOverrides=["record"])
    overrides = ProfileOverrides.model_validate(
        {"ladder": [{"height": 480, "bitrate": 1_000_000}], "latencyMode": "low"}
    )
    with pytest.raises(InvalidInput) as refused:
        templates.applied_profile(base, overrides)
    assert [p.name for p in refused.value.problems] == ["overrides[ladder]", "overrides[latencyMode]"]


def test_no_override_leaves_the_template_profile() -> None:
    base = template(allowOverrides=[])
    assert templates.applied_profile(base, ProfileOverrides()) == base.profile()


def test_null_overrides_are_refused() -> None:
    with pytest.raises(ValidationError):
        ProfileOverrides.model_validate({"record": None})


def test_the_built_in_default_allows_every_override() -> None:
    built_in = templates.built_in("pr1")
    assert built_in.default and set(built_in.allow_overrides) == set(templates.OVERRIDABLE)
