"""The embed page on the media domain: CloudFront forwards `/embed/*` (page, data, scripts) and
`/oembed` to the REST API, so `assets.player` (VIDEOPLANE_PLAYER_BASE_URL = media domain +
settings.PLAYER_PATH) is served by the playback context's public routes at the edge.

Why the API origin rather than a static page in S3: the page is themed per video and carries the
video's data inline (one request before playback starts); CloudFront caches it for the time the
route's Cache-Control allows (60 s for the page and its data, a day for the scripts), keyed by the
path alone (by the oEmbed query parameters for `/oembed`), so a popular video costs one Lambda call
per edge and minute. The origin is the API's regional domain with the stage as origin path; it is
built from the API id and the fixed stage name, not from the stage resource, because the functions
read the media domain (the distribution) and the stage depends on every function: a reference to
the stage would be a cycle.

The media behaviour's response headers deny framing; these behaviours drop that header (the page
answers with `Content-Security-Policy: frame-ancestors *`, because embedding is its purpose) and
keep the other security headers.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins

from infra import settings

PAGE_PATHS = (f"{settings.PLAYER_PATH}/*",)
OEMBED_PATH = "/oembed"
OEMBED_QUERY = ("url", "maxwidth", "maxheight", "format")
# A private video's page and data read take a private token or playback JWT (`token`) or a playback
# session (`avh`): in the cache key, so they reach the API (their answers are `private, no-store`).
PAGE_QUERY = ("token", "avh")
# A playback JWT's `aud` is checked against the embedding site's origin, sent as Referer.
PAGE_HEADERS = ("Referer",)
# A project's geo restriction is checked by the API against the viewer's country, which CloudFront
# adds to the request: in the cache key (so a page admitted in one country is never served from the
# cache to another), hence forwarded to the API.
GEO_HEADERS = ("CloudFront-Viewer-Country",)
# The routes' own Cache-Control decides; these bound it.
MAX_TTL = cdk.Duration.days(1)


def add_player_routes(stack: cdk.Stack, distribution: cloudfront.Distribution, api: apigw.RestApi) -> None:
    origin = origins.HttpOrigin(
        f"{api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}",
        origin_path=f"/{settings.API_STAGE}",
        protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
    )
    headers = cloudfront.ResponseHeadersPolicy(
        stack,
        "PlayerHeaders",
        comment="Videoplane embed page: security headers, framing allowed (the page sets frame-ancestors)",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
            ),
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=cdk.Duration.days(365), include_subdomains=True, override=True
            ),
        ),
    )
    page_cache = _cache_policy(
        stack,
        "PlayerPageCache",
        "Videoplane embed page: by path and private video credentials",
        cdk.Duration.seconds(0),
        cloudfront.CacheQueryStringBehavior.allow_list(*PAGE_QUERY),
    )
    page_requests = cloudfront.OriginRequestPolicy(
        stack,
        "PlayerPageRequests",
        comment="Videoplane embed page: the embedding site's Referer, for playback JWT audiences",
        header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(*PAGE_HEADERS),
        query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.none(),
        cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
    )
    oembed_cache = _cache_policy(
        stack,
        "PlayerOembedCache",
        "Videoplane oEmbed: by its query parameters",
        cdk.Duration.seconds(60),
        cloudfront.CacheQueryStringBehavior.allow_list(*OEMBED_QUERY),
    )
    for path, cache, requests in ((PAGE_PATHS[0], page_cache, page_requests), (OEMBED_PATH, oembed_cache, None)):
        distribution.add_behavior(
            path,
            origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
            cache_policy=cache,
            origin_request_policy=requests,
            response_headers_policy=headers,
            compress=True,
        )


def _cache_policy(
    stack: cdk.Stack,
    construct_id: str,
    comment: str,
    default_ttl: cdk.Duration,
    query: cloudfront.CacheQueryStringBehavior | None = None,
) -> cloudfront.CachePolicy:
    """Keyed by path (and `query`), as long as the route's Cache-Control allows, compressed."""
    return cloudfront.CachePolicy(
        stack,
        construct_id,
        comment=comment,
        default_ttl=default_ttl,
        min_ttl=cdk.Duration.seconds(0),
        max_ttl=MAX_TTL,
        query_string_behavior=query or cloudfront.CacheQueryStringBehavior.none(),
        header_behavior=cloudfront.CacheHeaderBehavior.allow_list(*GEO_HEADERS),
        cookie_behavior=cloudfront.CacheCookieBehavior.none(),
        enable_accept_encoding_gzip=True,
        enable_accept_encoding_brotli=True,
    )
