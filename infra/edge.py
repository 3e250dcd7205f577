"""The check for private videos at the edge: a CloudFront Function on the media distribution's
default (S3) behaviour, viewer request, reading a CloudFront KeyValueStore.

The function (infra/edge/playback_check.js) applies chalicelib/playback/domain/access.py's media rule
to every request: a private video's playlists and segments need a playback session in the path,
checked with an HMAC; the store holds which videos are private and the session keys
(chalicelib/playback/domain/edge.py). The playback context keeps the store current: a consumer of
the video events writes the private ids, the session-key rotation the keys (docs/playback.md).

Why a CloudFront Function and not Lambda@Edge or signed cookies: see docs/playback.md. It runs
before the cache, on hits too; the embed page's behaviours (`/embed/*`, `/oembed`, infra.player)
go to the API and are not checked here.

Geo restrictions: the function reads `CloudFront-Viewer-Country`, which CloudFront gives a
viewer-request function only when the header is in the behaviour's cache or origin request policy:
`viewer_country_requests` names it in an origin request policy (not in the cache key: one cached
copy of a segment serves every country; the function decides before the cache).

Refusals are counted from the function's own log: it logs one line per refusal
(`playback-denied <reason> <videoId>`), CloudFront delivers function logs to CloudWatch Logs in
us-east-1 (`/aws/cloudfront/function/<name>`, best effort), and one metric filter per reason turns
them into `Videoplane/Playback` metrics. Only refusals are logged, so the log costs nothing for
admitted requests. The log group and filters exist only when the stack is deployed in us-east-1
(where CloudFront writes the log); elsewhere the lines still land in us-east-1, uncounted.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import settings

FUNCTION_CODE = Path(__file__).with_name("edge") / "playback_check.js"
# What the function refuses with (chalicelib/playback/domain/access.py Denial, the edge's subset).
EDGE_DENIALS = ("no-token", "malformed-token", "unknown-key", "bad-signature", "expired", "geo-blocked")
DENIAL_NAMESPACE = "Videoplane/Playback"
DENIAL_METRIC_PREFIX = "EdgeDenials-"
FUNCTION_LOG_REGION = "us-east-1"


def playback_check(scope: Construct) -> tuple[cloudfront.KeyValueStore, cloudfront.FunctionAssociation]:
    """The store and the function's association, for the media distribution's default behaviour."""
    store = cloudfront.KeyValueStore(
        scope, "PlaybackEdgeStore", comment="Videoplane: private video ids and playback session keys"
    )
    function = cloudfront.Function(
        scope,
        "PlaybackCheck",
        comment="Videoplane: playback sessions of private videos",
        code=cloudfront.FunctionCode.from_file(file_path=str(FUNCTION_CODE)),
        runtime=cloudfront.FunctionRuntime.JS_2_0,
        key_value_store=store,
        auto_publish=True,
    )
    association = cloudfront.FunctionAssociation(
        function=function, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
    )
    _denial_metrics(scope, function)
    return store, association


def viewer_country_requests(scope: Construct) -> cloudfront.OriginRequestPolicy:
    """The media behaviour's origin request policy: puts the viewer's country in the request, where
    the function reads it (the media objects do not vary by country, so not in the cache key)."""
    return cloudfront.OriginRequestPolicy(
        scope,
        "MediaRequests",
        comment="Videoplane media: the viewer's country, for the edge check's geo restrictions",
        header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list("CloudFront-Viewer-Country"),
        query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.none(),
        cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
    )


def _denial_metrics(scope: Construct, function: cloudfront.Function) -> None:
    """The function's log group (with a retention) and a count per refusal reason, in us-east-1."""
    in_log_region = cdk.CfnCondition(
        scope, "EdgeLogRegion", expression=cdk.Fn.condition_equals(cdk.Aws.REGION, FUNCTION_LOG_REGION)
    )
    group = logs.LogGroup(
        scope,
        "PlaybackCheckLog",
        log_group_name=f"/aws/cloudfront/function/{function.function_name}",
        retention=logs.RetentionDays[settings.LOG_RETENTION],
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    constructs: list[Construct] = [group]
    for reason in EDGE_DENIALS:
        constructs.append(
            logs.MetricFilter(
                scope,
                f"EdgeDenials{reason.title().replace('-', '')}",
                log_group=group,
                filter_pattern=logs.FilterPattern.literal(f'"playback-denied {reason} "'),
                metric_namespace=DENIAL_NAMESPACE,
                metric_name=f"{DENIAL_METRIC_PREFIX}{reason}",
                metric_value="1",
            )
        )
    for construct in constructs:
        resource = construct.node.default_child
        assert isinstance(resource, cdk.CfnResource)
        resource.cfn_options.condition = in_log_region
