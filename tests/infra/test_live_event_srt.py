"""Managed live events' SRT passphrase on AWS (infra/live_event_srt.py): a generated secret in the
live nested stack, named to the live functions, readable by the MediaLive role and no one else."""

from __future__ import annotations

from typing import Any

from chalicelib.core import resources
from infra.shared import ROLE_IDS
from tests.infra.conftest import Synthesized, as_list, functions_by_name, of_type, role_statements


def srt_secret(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    secrets = of_type(template, "AWS::SecretsManager::Secret")
    (found, *others) = [(k, v) for k, v in secrets.items() if "LiveEventSrt" in k]
    assert others == []
    return found


def test_the_secret_is_generated_in_the_live_stack_and_named_to_the_live_functions(synthesized: Synthesized) -> None:
    template = synthesized.template
    secret_id, secret = srt_secret(template)
    generated = secret["Properties"]["GenerateSecretString"]
    assert "SecretString" not in secret["Properties"] and generated["ExcludePunctuation"] is True
    assert 10 <= generated["PasswordLength"] <= 79  # what SRT takes
    live = synthesized.stack.contexts["live"]
    (holder,) = [item for item in synthesized.stacks if secret_id in item.template["Resources"]]
    assert holder.resource_id is not None and holder.resource_id.startswith("Live"), holder.name
    live_functions = set(live.functions)
    named = set()
    for name, function_id in functions_by_name(template).items():
        variables = template["Resources"][function_id]["Properties"]["Environment"]["Variables"]
        if resources.LIVE_EVENT_SRT_SECRET_ENV in variables:
            assert variables[resources.LIVE_EVENT_SRT_SECRET_ENV] == {"Ref": secret_id}, name
            named.add(name)
    assert named == live_functions and named


def test_only_the_medialive_role_may_read_it(synthesized: Synthesized) -> None:
    template = synthesized.template
    secret_id, _ = srt_secret(template)
    readers = set()
    for role_id in of_type(template, "AWS::IAM::Role"):
        for statement in role_statements(template, role_id):
            resource, actions = as_list(statement["Resource"]), as_list(statement["Action"])
            if ({"Ref": secret_id} in resource or "*" in resource) and "secretsmanager:GetSecretValue" in actions:
                readers.add(role_id)
                assert actions == ["secretsmanager:GetSecretValue"] and resource == [{"Ref": secret_id}]
    prefix = ROLE_IDS[resources.MEDIALIVE_ROLE.name] + "Role"
    (medialive_role,) = [k for k in of_type(template, "AWS::IAM::Role") if k.startswith(prefix)]
    assert readers == {medialive_role}
