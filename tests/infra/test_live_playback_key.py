"""Private live playback on AWS (infra/live_playback_key.py): the secret, the custom resource that
makes the IVS playback key pair at deploy time, its function's role, and no key in any template."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from chalicelib.core import resources
from infra import keys_live, live_playback_key
from tests.infra.conftest import Synthesized, functions_by_name, of_type, referenced_ids, role_statements

# The routes that sign IVS playback JWTs (chalicelib/playback/api/embed.py, LIVE_PLAYBACK).
SIGNERS = {"get_live_embed_page", "get_live_embed_data", "get_private_live_manifest", "get_private_live_thumbnail"}


def key_resources(template: dict[str, Any]) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    (custom_id, custom), *others = of_type(template, live_playback_key.RESOURCE_TYPE).items()
    assert others == []
    (secret_id,) = [k for k in of_type(template, "AWS::SecretsManager::Secret") if k.startswith("LivePlaybackKey")]
    return custom_id, custom, secret_id, template["Resources"][secret_id]


def test_no_template_holds_a_key(synthesized: Synthesized) -> None:
    for path in synthesized.template_paths:
        text = path.read_text()
        assert "-----BEGIN" not in text and "PRIVATE KEY" not in text, path.name
    _, custom, _, secret = key_resources(synthesized.template)
    # The secret starts as a generated placeholder; the key is written by the custom resource.
    assert "SecretString" not in secret["Properties"] and "GenerateSecretString" in secret["Properties"]
    assert set(custom["Properties"]) == {"ServiceToken", "SecretId", "NamePrefix"}


def test_the_custom_resource_fills_the_retained_secret_and_every_function_names_it(synthesized: Synthesized) -> None:
    template = synthesized.template
    _, custom, secret_id, secret = key_resources(template)
    assert secret["DeletionPolicy"] == "Retain" and secret["UpdateReplacePolicy"] == "Retain"
    assert custom["Properties"]["SecretId"] == {"Ref": secret_id}
    assert custom["Properties"]["NamePrefix"] == f"{synthesized.stack.stack_name}-live"
    # What the rotation command (infra/keys_live.py) finds the secret by.
    assert template["Outputs"][keys_live.SECRET_OUTPUT]["Value"] == {"Ref": secret_id}
    (function_id,) = referenced_ids(custom["Properties"]["ServiceToken"])
    function = template["Resources"][function_id]
    assert function["Type"] == "AWS::Lambda::Function"
    assert function["Properties"]["Handler"] == "ivs_key_provider.handler"
    for name, fid in functions_by_name(template).items():
        variables = template["Resources"][fid]["Properties"]["Environment"]["Variables"]
        assert variables[resources.LIVE_PLAYBACK_KEY_SECRET_ENV] == {"Ref": secret_id}, name


def test_the_provider_may_write_only_that_secret_and_playback_key_pairs(synthesized: Synthesized) -> None:
    template = synthesized.template
    _, custom, secret_id, _ = key_resources(template)
    (function_id,) = referenced_ids(custom["Properties"]["ServiceToken"])
    properties = template["Resources"][function_id]["Properties"]
    role_id = properties["Role"]["Fn::GetAtt"][0]
    log_group = {"Fn::GetAtt": [properties["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]}
    granted = {
        (tuple(sorted(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])),
         str(statement["Resource"]))
        for statement in role_statements(template, role_id)
    }  # fmt: skip
    key_pairs = {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":ivs:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
             ":playback-key/*"],
        ]
    }  # fmt: skip
    assert granted == {
        (("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"), str({"Ref": secret_id})),
        (("ivs:DeletePlaybackKeyPair", "ivs:ImportPlaybackKeyPair"), str(key_pairs)),
        (("ivs:ListPlaybackKeyPairs",), "*"),
        (("cloudformation:DescribeStacks",), str({"Ref": "AWS::StackId"})),
        (("logs:CreateLogStream", "logs:PutLogEvents"), str(log_group)),
    }


def test_only_the_routes_that_sign_live_playback_tokens_read_the_key(synthesized: Synthesized) -> None:
    template = synthesized.template
    _, _, secret_id, _ = key_resources(template)
    readers = {
        name
        for name, fid in functions_by_name(template).items()
        for statement in role_statements(template, template["Resources"][fid]["Properties"]["Role"]["Fn::GetAtt"][0])
        if {"Ref": secret_id}
        in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
    }
    assert readers == SIGNERS


def test_the_provider_code_is_the_apps_wheels_and_the_one_module(tmp_path: Path) -> None:
    def code(name: str, app_source: str) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("cryptography/__init__.py", "")
            archive.writestr("chalice/app.py", "")
            archive.writestr("chalicelib/live/x.py", app_source)
        return path

    built = live_playback_key.provider_zip(code("code-a.zip", "a = 1"))
    with zipfile.ZipFile(built) as archive:
        assert set(archive.namelist()) == {"cryptography/__init__.py", "ivs_key_provider.py"}
        assert archive.read("ivs_key_provider.py") == live_playback_key.PROVIDER.read_bytes()
    content = built.read_bytes()
    # Another version of the app alone: the same provider asset.
    assert live_playback_key.provider_zip(code("code-b.zip", "a = 2")) == built and built.read_bytes() == content
