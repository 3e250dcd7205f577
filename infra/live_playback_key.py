"""Private live playback on AWS: the stack's IVS playback key pair (docs/live.md, "Private live
streams").

IVS plays an `authorized` channel only with an ES384 JWT signed by a key whose public half was
imported into IVS. CloudFormation's `AWS::IVS::PlaybackKeyPair` takes the public key as a property
(so a key made outside the stack) and nothing in CloudFormation can generate an EC key, so a
custom resource does it at deploy time (`infra/ivs_key_provider.py`, in a Lambda function of its
own): it writes the private key (PEM) into the secret made here and imports the public half into
IVS. The template holds neither key, only the secret's ARN; the live embed routes read the secret
(resources.LIVE_PLAYBACK_KEY_SECRET_ENV, once per container, `GetSecretValue` on it only).

The secret is retained with the stack's other key secrets: a key pair deleted with the stack can
be imported again from it. The function's code is the app's wheels (boto3, cryptography) plus
the one module, zipped beside the app's code asset.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import common, ivs_key_provider, settings
from infra.functions import InlineRole

PROVIDER = Path(__file__).resolve().parent / "ivs_key_provider.py"
RESOURCE_TYPE = "Custom::IvsPlaybackKeyPair"
# Zips of the provider beside the code asset: keep the newest few.
KEEP_ZIPS = 3
# What of the code asset is the app's (infra.bundle.source_files); the rest is requirements.txt's wheels.
APP_FOLDERS = ("chalicelib/", "chalice/")


def provider_zip(code_zip: Path) -> Path:
    """The app's wheels (boto3, cryptography: the code asset without the app's own folders) plus the
    provider module at the root, built next to the code asset. Named after the wheels' entries and
    the module, so a change to the app alone makes no new provider asset (nor updates its function)."""
    source = PROVIDER.read_bytes()
    with zipfile.ZipFile(code_zip) as code:
        wheels = [info for info in code.infolist() if not info.filename.startswith(APP_FOLDERS)]
        listing = "".join(f"{info.filename}:{info.CRC}\n" for info in wheels).encode()
        target = code_zip.with_name(f"ivs-key-provider-{hashlib.sha256(listing + source).hexdigest()[:20]}.zip")
        if not target.exists():
            partial = target.with_suffix(".partial")
            with zipfile.ZipFile(partial, "w") as archive:
                for info in wheels:
                    archive.writestr(info, code.read(info))
                entry = zipfile.ZipInfo(PROVIDER.name, date_time=(1980, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = (0o644 | 0o100000) << 16
                archive.writestr(entry, source)
            partial.replace(target)
    builds = sorted(code_zip.parent.glob("ivs-key-provider-*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [b for b in builds if b != target][KEEP_ZIPS - 1 :]:
        old.unlink(missing_ok=True)
    return target


class LivePlaybackKey(Construct):
    """The secret with the private key, the provider function, and the key pair it imports."""

    def __init__(self, scope: Construct, construct_id: str, *, code_zip: Path) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="Videoplane: the P-384 private key (PEM) signing IVS playback JWTs of private live streams",
            # A placeholder until the custom resource writes the key (CloudFormation cannot make one).
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        common.acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "Not rotated by Secrets Manager: the key's public half is imported into IVS, so a rotation means "
            "importing the new half first and keeping both until the last 10-minute IVS JWT expires; done by "
            "hand with python -m infra.keys_live (docs/live.md), never by accident.",
        )
        log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays[settings.LOG_RETENTION], removal_policy=cdk.RemovalPolicy.DESTROY
        )
        role = InlineRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Videoplane: makes the IVS playback key pair of private live streams (deploy time)",
        )
        log_group.grant_write(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                resources=[self.secret.secret_arn],
            )
        )
        key_pairs = stack.format_arn(service="ivs", resource="playback-key", resource_name="*")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ivs:ImportPlaybackKeyPair", "ivs:DeletePlaybackKeyPair"], resources=[key_pairs]
            )
        )
        # ListPlaybackKeyPairs has no resource type.
        role.add_to_principal_policy(iam.PolicyStatement(actions=["ivs:ListPlaybackKeyPairs"], resources=["*"]))
        # Whether a Delete is the stack's own (then rotated pairs go too, infra/keys_live.py).
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[stack.stack_id])
        )
        function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_11,
            architecture=lambda_.Architecture.X86_64,
            handler=f"{PROVIDER.stem}.handler",
            code=lambda_.Code.from_asset(str(provider_zip(code_zip))),
            role=role,
            memory_size=256,
            timeout=cdk.Duration.seconds(60),
            log_group=log_group,
            description="Videoplane: the IVS playback key pair of private live streams (custom resource)",
        )
        common.cfn(function).add_deletion_override("DependsOn")
        common.acknowledge(
            function,
            "AwsSolutions-L1",
            f"Runtime {settings.RUNTIME} is the interpreter the app's wheels (cryptography) are built for.",
        )
        common.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Only ivs:ListPlaybackKeyPairs uses '*': it has no resource-level permissions.",
        )
        common.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ivs:<AWS::Region>:<AWS::AccountId>:playback-key/*]",
            "Import and delete of this account's IVS playback key pairs in this region: the pair's id is known "
            "only once imported.",
        )
        self.key_pair = cdk.CustomResource(
            self,
            "KeyPair",
            service_token=function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={
                "SecretId": self.secret.secret_arn,
                "NamePrefix": ivs_key_provider.name_prefix(stack.stack_name),
            },
        )
        self.key_pair_arn = self.key_pair.get_att_string("KeyPairArn")
