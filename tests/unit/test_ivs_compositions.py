"""IVS real-time compositions (rooms' recordings) from the rooms adapter: botocore's Stubber and the
strict model walk for StartComposition and StopComposition, and their error codes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from chalicelib.rooms.adapters.stages import IvsStages, composition_request
from chalicelib.rooms.domain.errors import RecordingUnavailable, StageUnavailable
from tests.unit.test_ivs_stages import STAGE, TAGS, checked, client

STORAGE = "arn:aws:ivs:us-east-1:123456789012:storage-configuration/StOrAgE12345"
ENCODER = "arn:aws:ivs:us-east-1:123456789012:encoder-configuration/EnCoDeR12345"
COMPOSITION = "arn:aws:ivs:us-east-1:123456789012:composition/CoMpOsItIoN1"
PREFIX = "StOrAgE12345/CoMpOsItIoN1/DeStInAtIoN1/composite"
SESSION_TAGS = {**TAGS, "videoplane:sessionId": "rs0123456789abcdefghijkl"}


def composition(prefix: str | None = PREFIX) -> dict[str, Any]:
    destination: dict[str, Any] = {
        "id": "DeStInAtIoN1",
        "state": "STARTING",
        "configuration": {"s3": {"storageConfigurationArn": STORAGE, "encoderConfigurationArns": [ENCODER]}},
    }
    if prefix:
        destination["detail"] = {"s3": {"recordingPrefix": prefix}}
    return {"arn": COMPOSITION, "stageArn": STAGE, "state": "STARTING", "layout": {}, "destinations": [destination]}


def test_start_composition_records_the_stage_as_hls_to_the_stacks_storage_and_answers_its_prefix() -> None:
    ivs = client()
    request = composition_request(STAGE, "rs0123456789abcdefghijkl-0", SESSION_TAGS, STORAGE, ENCODER)
    with Stubber(ivs) as stubber:
        checked(stubber, "StartComposition", {"composition": composition()}, request)
        started = IvsStages(
            ivs, storage_configuration_arn=STORAGE, encoder_configuration_arn=ENCODER
        ).start_composition(STAGE, "rs0123456789abcdefghijkl-0", SESSION_TAGS)
        stubber.assert_no_pending_responses()
    assert started == (COMPOSITION, PREFIX)
    assert request["destinations"][0]["s3"]["recordingConfiguration"] == {"format": "HLS"}


def test_the_strict_walk_catches_a_token_ivs_would_refuse() -> None:
    from tests.unit import strict_model

    request = composition_request(STAGE, "x" * 65, TAGS, STORAGE, ENCODER)
    assert any(
        f.startswith("idempotencyToken") for f in strict_model.findings("ivs-realtime", "StartComposition", request)
    )


def test_no_configuration_or_no_prefix_is_recording_unavailable() -> None:
    with pytest.raises(RecordingUnavailable):
        IvsStages(client()).start_composition(STAGE, "t", TAGS)
    ivs = client()
    with Stubber(ivs) as stubber:
        request = composition_request(STAGE, "t", TAGS, STORAGE, ENCODER)
        checked(stubber, "StartComposition", {"composition": composition(None)}, request)
        with pytest.raises(RecordingUnavailable):
            IvsStages(ivs, storage_configuration_arn=STORAGE, encoder_configuration_arn=ENCODER).start_composition(
                STAGE, "t", TAGS
            )


def test_stop_composition_and_a_composition_already_gone() -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        checked(stubber, "StopComposition", {}, {"arn": COMPOSITION})
        stubber.add_client_error("stop_composition", "ResourceNotFoundException", http_status_code=404)
        stages = IvsStages(ivs, storage_configuration_arn=STORAGE, encoder_configuration_arn=ENCODER)
        assert stages.stop_composition(COMPOSITION) is True
        assert stages.stop_composition(COMPOSITION) is False
        stubber.assert_no_pending_responses()


def test_a_throttled_start_is_retryable() -> None:
    ivs = client()
    with Stubber(ivs) as stubber:
        stubber.add_client_error("start_composition", "ThrottlingException", http_status_code=429)
        with pytest.raises(StageUnavailable):
            IvsStages(ivs, storage_configuration_arn=STORAGE, encoder_configuration_arn=ENCODER).start_composition(
                STAGE, "t", TAGS
            )
