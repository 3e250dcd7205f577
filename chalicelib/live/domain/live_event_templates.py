"""Event-class templates (a Videoplane extension): named live profiles per project, one of them the
project's default. Pure rules.

A template holds what a managed live event's MediaLive channel is built from (the ladder, segment
length, latency, what the output does on input loss, the automatic failover thresholds, recording)
and the guardrails of its restreams. Every change bumps `version`; an event records the template
and the version it applied (the seed's troubleshooting: "compare applied template version against
release tag"). `allowOverrides` names the settings an event may change; the events API refuses
(400, naming the field) an override the template forbids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from chalicelib.core import ids
from chalicelib.core.domain.errors import Conflict, InvalidInput, Problem

TEMPLATE_ID_PREFIX = "lt"
BUILT_IN_TEMPLATE_ID = "default"
MAX_RENDITIONS = 6
MAX_ALLOWED_HOSTS = 20
# The settings an event may override, by their wire names (the template's own `allowOverrides`).
Overridable = Literal["ladder", "segmentSeconds", "latencyMode", "inputLoss", "failover", "record", "incidents"]
OVERRIDABLE: tuple[Overridable, ...] = get_args(Overridable)
TemplateName = Annotated[StrictStr, StringConstraints(min_length=1, max_length=100, pattern=r"\S")]
Host = Annotated[StrictStr, StringConstraints(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.-]+$")]
Millis = Annotated[StrictInt, Field(ge=0, le=1_000_000)]


class Wire(BaseModel):
    """camelCase on the wire, snake_case in Python and in the table."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, alias_generator=to_camel, extra="forbid")


class Rendition(Wire):
    height: Annotated[StrictInt, Field(ge=144, le=2160)]
    bitrate: Annotated[StrictInt, Field(ge=100_000, le=20_000_000, description="Video bits per second")]


class InputLoss(Wire):
    """What viewers get while no input arrives (MediaLive GlobalConfiguration.InputLossBehavior and
    the HLS group's InputLossAction): the last frame repeated, then black, output emitted or paused."""

    repeat_frame_ms: Millis = 1000
    black_frame_ms: Millis = 10_000
    action: Literal["EMIT_OUTPUT", "PAUSE_OUTPUT"] = "EMIT_OUTPUT"


class Failover(Wire):
    """The automatic input failover of the primary route (MediaLive AutomaticInputFailoverSettings):
    input loss always; black video and audio silence when their thresholds are set."""

    input_loss_ms: Annotated[StrictInt, Field(ge=100, le=600_000)] = 1000
    black_video_ms: Annotated[StrictInt, Field(ge=1000, le=600_000)] | None = None
    black_threshold: Annotated[StrictFloat, Field(ge=0.0, le=1.0)] = 0.1
    audio_silence_ms: Annotated[StrictInt, Field(ge=1000, le=600_000)] | None = None
    error_clear_ms: Annotated[StrictInt, Field(ge=1, le=600_000)] = 30_000
    input_preference: Literal["PRIMARY_INPUT_PREFERRED", "EQUAL_INPUT_PREFERENCE"] = "PRIMARY_INPUT_PREFERRED"


IncidentAction = Literal["switch-route", "cap-ladder"]
# CloudWatch alarm periods: 10 and 30 s (high resolution), or whole minutes.
AlarmPeriod = Literal[10, 30, 60, 120, 300]


class Incidents(Wire):
    """Incident automation (docs/live.md, "Incident automation"): CloudWatch alarms on the channel's
    metrics, made when the event is armed. A metric is degraded when its Sum per `periodSeconds`
    reaches its threshold for `sustainSeconds` out of the last `evaluationSeconds` (CloudWatch's M of
    N); then the event's incident opens and the actions run. Once every alarm is OK again for
    `stabilizationSeconds`, the actions are reverted and the incident resolved."""

    enabled: StrictBool = True
    # DroppedFrames (Sum per period) at or above this; null: not watched.
    dropped_frames: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = 150
    # InputLossSeconds (Sum per period) at or above this; null: not watched.
    input_loss_seconds: Annotated[StrictInt, Field(ge=1, le=3600)] | None = 10
    period_seconds: AlarmPeriod = 60
    sustain_seconds: Annotated[StrictInt, Field(ge=10, le=3600)] = 120
    evaluation_seconds: Annotated[StrictInt, Field(ge=10, le=3600)] | None = None
    stabilization_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 120
    actions: Annotated[tuple[IncidentAction, ...], Field(max_length=2)] = ("switch-route", "cap-ladder")
    # The highest rendition viewers should get while the incident is open ("cap-ladder").
    ladder_cap_height: Annotated[StrictInt, Field(ge=144, le=2160)] = 480

    @model_validator(mode="after")
    def _periods(self) -> Incidents:
        if self.sustain_seconds % self.period_seconds:
            raise ValueError("sustainSeconds must be a multiple of periodSeconds.")
        evaluation = self.evaluation_seconds if self.evaluation_seconds is not None else self.sustain_seconds
        if evaluation % self.period_seconds or evaluation < self.sustain_seconds:
            raise ValueError("evaluationSeconds must be a multiple of periodSeconds, at least sustainSeconds.")
        if len(set(self.actions)) != len(self.actions):
            raise ValueError("Each action may be listed once.")
        return self

    @property
    def datapoints_to_alarm(self) -> int:
        return self.sustain_seconds // self.period_seconds

    @property
    def evaluation_periods(self) -> int:
        evaluation = self.evaluation_seconds if self.evaluation_seconds is not None else self.sustain_seconds
        return evaluation // self.period_seconds


class RestreamGuardrails(Wire):
    max_restreams: Annotated[StrictInt, Field(ge=0, le=5)] = 5
    allowed_hosts: Annotated[tuple[Host, ...], Field(max_length=MAX_ALLOWED_HOSTS)] = ()


Ladder = Annotated[tuple[Rendition, ...], Field(min_length=1, max_length=MAX_RENDITIONS)]
DEFAULT_LADDER = (
    Rendition(height=1080, bitrate=5_000_000),
    Rendition(height=720, bitrate=3_000_000),
    Rendition(height=480, bitrate=1_200_000),
    Rendition(height=240, bitrate=400_000),
)


def _ladder(value: tuple[Rendition, ...] | None) -> tuple[Rendition, ...] | None:
    """Highest first, each height once."""
    if value is None:
        return None
    if len({r.height for r in value}) != len(value):
        raise ValueError("Each rendition height may be listed once.")
    return tuple(sorted(value, key=lambda r: -r.height))


class LiveProfile(Wire):
    """The settings an event's channel is built from: a template's, with the event's overrides."""

    ladder: Ladder = DEFAULT_LADDER
    segment_seconds: Annotated[StrictInt, Field(ge=1, le=10)] = 2
    latency_mode: Literal["normal", "low"] = "normal"
    input_loss: InputLoss = InputLoss()
    failover: Failover = Failover()
    record: StrictBool = False
    incidents: Incidents = Incidents()

    _ladder = field_validator("ladder")(_ladder)


class LiveEventTemplateCreation(LiveProfile):
    """`POST /live-event-templates` body."""

    name: TemplateName
    default: StrictBool = False
    restreams: RestreamGuardrails = RestreamGuardrails()
    allow_overrides: tuple[Overridable, ...] = OVERRIDABLE


class LiveEventTemplateUpdate(Wire):
    """`PATCH /live-event-templates/{id}` body: absent keys are left; nested objects are replaced."""

    name: TemplateName | None = None
    default: StrictBool | None = None
    ladder: Ladder | None = None
    segment_seconds: Annotated[StrictInt, Field(ge=1, le=10)] | None = None
    latency_mode: Literal["normal", "low"] | None = None
    input_loss: InputLoss | None = None
    failover: Failover | None = None
    record: StrictBool | None = None
    incidents: Incidents | None = None
    restreams: RestreamGuardrails | None = None
    allow_overrides: tuple[Overridable, ...] | None = None

    _ladder = field_validator("ladder")(_ladder)

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}

    def null_violations(self) -> list[str]:
        fields = type(self).model_fields
        return [fields[name].alias or name for name in self.model_fields_set if getattr(self, name) is None]


class LiveEventTemplate(LiveProfile):
    model_config = ConfigDict(frozen=True, populate_by_name=True, alias_generator=to_camel, extra="ignore")
    project_id: str
    template_id: str
    name: str
    default: bool = False
    restreams: RestreamGuardrails = RestreamGuardrails()
    allow_overrides: tuple[str, ...] = OVERRIDABLE
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def profile(self) -> LiveProfile:
        return LiveProfile.model_validate(self.model_dump(include=set(LiveProfile.model_fields)))


class DefaultTemplateInUse(Conflict):
    slug = "live-event-template-is-default"
    title = "The project's default live event template cannot be deleted; make another one the default first."


def new_template(project_id: str, payload: LiveEventTemplateCreation, now: datetime) -> LiveEventTemplate:
    return LiveEventTemplate(
        project_id=project_id,
        template_id=ids.new_sortable_id(TEMPLATE_ID_PREFIX),
        **payload.model_dump(),
        created_at=now,
        updated_at=now,
    )


def apply_update(template: LiveEventTemplate, changes: dict[str, Any], now: datetime) -> LiveEventTemplate:
    """Every change is a new version (even one that changes nothing: the request is recorded)."""
    return template.model_copy(update={**changes, "updated_at": now, "version": template.version + 1})


def cleared(template: LiveEventTemplate, now: datetime) -> LiveEventTemplate:
    return template.model_copy(update={"default": False, "updated_at": now, "version": template.version + 1})


def built_in(project_id: str) -> LiveEventTemplate:
    """What a project without a stored default applies: the default profile, every override allowed."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return LiveEventTemplate(
        project_id=project_id,
        template_id=BUILT_IN_TEMPLATE_ID,
        name="Default",
        default=True,
        created_at=epoch,
        updated_at=epoch,
    )


# -- overrides an event asks for -------------------------------------------------------------


class ProfileOverrides(Wire):
    """An event's `overrides`: any of the template's settings, each only if the template allows it."""

    ladder: Ladder | None = None
    segment_seconds: Annotated[StrictInt, Field(ge=1, le=10)] | None = None
    latency_mode: Literal["normal", "low"] | None = None
    input_loss: InputLoss | None = None
    failover: Failover | None = None
    record: StrictBool | None = None
    incidents: Incidents | None = None

    _ladder = field_validator("ladder")(_ladder)

    @model_validator(mode="after")
    def _no_nulls(self) -> ProfileOverrides:
        if any(getattr(self, name) is None for name in self.model_fields_set):
            raise ValueError("An override must not be null; leave it out to keep the template's value.")
        return self

    def wire_names(self) -> list[str]:
        fields = type(self).model_fields
        return [fields[name].alias or name for name in sorted(self.model_fields_set)]


def forbidden_overrides(template: LiveEventTemplate, overrides: ProfileOverrides) -> list[str]:
    """The overridden settings the template does not allow, by their wire names."""
    return [name for name in overrides.wire_names() if name not in template.allow_overrides]


def applied_profile(template: LiveEventTemplate, overrides: ProfileOverrides) -> LiveProfile:
    """The template's profile with the event's overrides; InvalidInput naming each forbidden one."""
    forbidden = forbidden_overrides(template, overrides)
    if forbidden:
        raise InvalidInput(
            [
                Problem(
                    "invalid-attribute",
                    "The live event template does not allow overriding this setting.",
                    f"overrides[{name}]",
                    f"The template {template.template_id} (version {template.version}) forbids overriding {name}.",
                )
                for name in forbidden
            ]
        )
    changes = {name: getattr(overrides, name) for name in overrides.model_fields_set}
    return template.profile().model_copy(update=changes)
