"""One definition of every AWS resource's names, keys and indexes.

`infra/` builds CloudFormation from these and `devstack/` creates the same resources in the
emulator; the runtime reads only the environment variable names from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

APP_NAME = "videoplane"

TABLE_ENV = "VIDEOPLANE_TABLE"
SIGNING_SECRET_ENV = "VIDEOPLANE_SIGNING_SECRET_ID"

PARTITION_KEY = "PK"
SORT_KEY = "SK"
GSI1 = "GSI1"
GSI1_PARTITION_KEY = "GSI1PK"
GSI1_SORT_KEY = "GSI1SK"
# A project's videos in creation order, one partition for the kept and one for the discarded:
# `GET /videos` reads this sparse index (only video items carry its keys) instead of the project's
# whole video partition. It projects the attributes the list filters and sorts on (item layout:
# chalicelib/vod/adapters/records.py); the page's full items are then read by key.
GSI2 = "GSI2"
GSI2_PARTITION_KEY = "GSI2PK"
GSI2_SORT_KEY = "GSI2SK"
VIDEO_LISTING_ATTRIBUTES = (
    "video_id", "title", "description", "tags", "metadata", "live_stream_id", "created_at", "updated_at",
    "published_at",
)  # fmt: skip
TTL_ATTRIBUTE = "ttl"

TABLE: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
        {"AttributeName": SORT_KEY, "AttributeType": "S"},
        {"AttributeName": GSI1_PARTITION_KEY, "AttributeType": "S"},
        {"AttributeName": GSI1_SORT_KEY, "AttributeType": "S"},
        {"AttributeName": GSI2_PARTITION_KEY, "AttributeType": "S"},
        {"AttributeName": GSI2_SORT_KEY, "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": GSI1,
            "KeySchema": [
                {"AttributeName": GSI1_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": GSI1_SORT_KEY, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": GSI2,
            "KeySchema": [
                {"AttributeName": GSI2_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": GSI2_SORT_KEY, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(VIDEO_LISTING_ATTRIBUTES)},
        },
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
}

# API Gateway answers these itself, before any Lambda runs. The devstack gateway plays them
# from this table and infra writes them as AWS::ApiGateway::GatewayResponse.
# `$context.authorizer.*` is what the authorizer put in its Deny context.
_PROBLEM_FROM_AUTHORIZER = (
    '{"type":"https://docs.api.video/reference/$context.authorizer.problemSlug",'
    '"title":"$context.authorizer.problemTitle","name":"","status":401}'
)
GATEWAY_RESPONSES: dict[str, dict[str, Any]] = {
    # No Authorization header on a route with the authorizer: the authorizer is not called.
    "UNAUTHORIZED": {
        "status": 401,
        "template": (
            '{"type":"https://docs.api.video/reference/authentication-missing-authorization-header",'
            '"title":"The \\"Authorization\\" header is missing.","name":"","status":401}'
        ),
    },
    # The authorizer answered Deny: its context names the api.video problem.
    "ACCESS_DENIED": {"status": 401, "template": _PROBLEM_FROM_AUTHORIZER},
    "AUTHORIZER_FAILURE": {
        "status": 500,
        "template": (
            '{"type":"https://docs.api.video/reference/server-error","title":"Server error","name":"","status":500}'
        ),
    },
    # The body is over API Gateway's 10 MB payload limit.
    "REQUEST_TOO_LARGE": {
        "status": 413,
        "template": (
            '{"type":"https://docs.api.video/reference/request-too-large",'
            '"title":"The request body is larger than 10 MB.","name":"","status":413}'
        ),
    },
    # No resource matches the path.
    "MISSING_AUTHENTICATION_TOKEN": {
        "status": 404,
        "template": (
            '{"type":"https://docs.api.video/reference/unrecognized-request-url",'
            '"title":"Unrecognized request URL.","name":"","status":404}'
        ),
    },
}

AUTHORIZER_RESULT_TTL_SECONDS = 60
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024


# -- buckets, the event bus and the media services' roles ------------------------------------
#
# Settings use the S3 API's shapes (what boto3's put_bucket_lifecycle_configuration and
# put_bucket_cors take): the devstack passes them as they are, infra translates them into
# CloudFormation (and refuses settings it does not translate). In AWS CloudFormation names the
# buckets and roles; the devstack names them `<APP_NAME>-<name>`.


@dataclass(frozen=True)
class Bucket:
    # Short name: infra's construct id and output, the devstack's bucket `<APP_NAME>-<name>`.
    name: str
    # Environment variable that gives every function the bucket's name.
    env: str
    # Symbolic resource in chalicelib.core.permissions (infra maps it to the bucket and its objects).
    permission: str
    # S3 PutBucketLifecycleConfiguration's LifecycleConfiguration.
    lifecycle: dict[str, Any]
    # S3 PutBucketCors's CORSConfiguration (None: no CORS).
    cors: dict[str, Any] | None = None


@dataclass(frozen=True)
class EventBus:
    name: str
    env: str
    permission: str


@dataclass(frozen=True)
class ServiceRole:
    """A role an AWS media service assumes to read and write the buckets; functions pass it
    (iam:PassRole) when they create a job or channel."""

    name: str
    # Environment variable that gives every function the role's ARN.
    env: str
    permission: str
    service_principal: str
    # Bucket name -> S3 actions on its objects.
    object_access: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Bucket name -> the key prefix those actions are limited to (none: the whole bucket).
    object_prefixes: dict[str, str] = field(default_factory=dict)


# Incomplete multipart uploads are billed as storage until aborted.
ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS = 3

_ABORT_INCOMPLETE_MULTIPART_UPLOADS: dict[str, Any] = {
    "ID": "abort-incomplete-multipart-uploads",
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS},
}

# Prefixes in the uploads bucket: request bodies as received, refused bodies (kept a day for
# inspection), and assembled sources. S3 notifications on the first and last feed the pipeline.
INCOMING_PREFIX = "incoming/"
REJECTED_PREFIX = "rejected/"
SOURCES_PREFIX = "sources/"
REJECTED_RETENTION_DAYS = 1
# Request bodies of uploads that were never completed (the parts of a finished upload are
# assembled under sources/ within minutes).
INCOMING_RETENTION_DAYS = 7

# Source files as uploaded (request bodies under incoming/, assembled under sources/), read by
# MediaConvert.
UPLOADS_BUCKET = Bucket(
    name="uploads",
    env="VIDEOPLANE_UPLOADS_BUCKET",
    permission="uploads-bucket",
    lifecycle={
        "Rules": [
            _ABORT_INCOMPLETE_MULTIPART_UPLOADS,
            {
                "ID": "expire-abandoned-parts",
                "Status": "Enabled",
                "Filter": {"Prefix": INCOMING_PREFIX},
                "Expiration": {"Days": INCOMING_RETENTION_DAYS},
            },
            {
                "ID": "expire-rejected-bodies",
                "Status": "Enabled",
                "Filter": {"Prefix": REJECTED_PREFIX},
                "Expiration": {"Days": REJECTED_RETENTION_DAYS},
            },
        ]
    },
)

# Renditions, HLS, thumbnails and live segments; private, served through CloudFront. Players
# fetch manifests and segments cross-origin (XHR / fetch, Range requests).
MEDIA_BUCKET = Bucket(
    name="media",
    env="VIDEOPLANE_MEDIA_BUCKET",
    permission="media-bucket",
    lifecycle={"Rules": [_ABORT_INCOMPLETE_MULTIPART_UPLOADS]},
    cors={
        "CORSRules": [
            {
                "ID": "players",
                "AllowedMethods": ["GET", "HEAD"],
                "AllowedOrigins": ["*"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["Content-Length", "Content-Range", "ETag"],
                "MaxAgeSeconds": 3600,
            }
        ]
    },
)

# Player beacons as Firehose writes them (chalicelib.analytics): newline-delimited JSON, GZIP on AWS,
# one prefix per project and day, queried by Athena (DuckDB on the devstack). Raw events are kept
# ANALYTICS_RAW_RETENTION_DAYS (api.video keeps 30 days).
ANALYTICS_EVENTS_PREFIX = "events/"
ANALYTICS_ERRORS_PREFIX = "errors/"
ANALYTICS_QUERY_RESULTS_PREFIX = "query-results/"
ANALYTICS_RAW_RETENTION_DAYS = 30
# The hourly rollup (Parquet, written by Athena's INSERT INTO on AWS) is kept longer: 13 months
# lets a tenant compare a month with the same month a year before. Infra takes both from CDK
# context (infra/retention.py).
ANALYTICS_ROLLUP_PREFIX = "rollup/"
ANALYTICS_ROLLUP_RETENTION_DAYS = 400


def analytics_lifecycle(
    raw_days: int = ANALYTICS_RAW_RETENTION_DAYS, rollup_days: int = ANALYTICS_ROLLUP_RETENTION_DAYS
) -> dict[str, Any]:
    """The analytics bucket's LifecycleConfiguration for these retentions."""
    return {
        "Rules": [
            _ABORT_INCOMPLETE_MULTIPART_UPLOADS,
            *(
                {
                    "ID": f"expire-{prefix.rstrip('/')}",
                    "Status": "Enabled",
                    "Filter": {"Prefix": prefix},
                    "Expiration": {"Days": days},
                }
                for prefix, days in (
                    (ANALYTICS_EVENTS_PREFIX, raw_days),
                    (ANALYTICS_ERRORS_PREFIX, raw_days),
                    (ANALYTICS_QUERY_RESULTS_PREFIX, 1),
                    (ANALYTICS_ROLLUP_PREFIX, rollup_days),
                )
            ),
        ]
    }


ANALYTICS_BUCKET = Bucket(
    name="analytics",
    env="VIDEOPLANE_ANALYTICS_BUCKET",
    permission="analytics-bucket",
    lifecycle=analytics_lifecycle(),
)

BUCKETS = (UPLOADS_BUCKET, MEDIA_BUCKET, ANALYTICS_BUCKET)

# The project's own events (video and live stream lifecycle, webhooks). AWS service events
# (MediaConvert, MediaLive, S3) arrive on the account's default bus, not here.
EVENT_BUS = EventBus(name="events", env="VIDEOPLANE_EVENT_BUS", permission="event-bus")

MEDIACONVERT_ROLE = ServiceRole(
    name="mediaconvert",
    env="VIDEOPLANE_MEDIACONVERT_ROLE_ARN",
    permission="mediaconvert-role",
    service_principal="mediaconvert.amazonaws.com",
    object_access={UPLOADS_BUCKET.name: ("GetObject",), MEDIA_BUCKET.name: ("PutObject",)},
)
# Where managed live events' channels write their HLS in the media bucket.
LIVE_EVENTS_PREFIX = "live-events/"
MEDIALIVE_ROLE = ServiceRole(
    name="medialive",
    env="VIDEOPLANE_MEDIALIVE_ROLE_ARN",
    permission="medialive-role",
    service_principal="medialive.amazonaws.com",
    # Channels write their HLS under the live events' prefix of the media bucket; a premiere's
    # channel reads its video's source (chalicelib.live.domain.live_events.output_prefix).
    object_access={MEDIA_BUCKET.name: ("PutObject",), UPLOADS_BUCKET.name: ("GetObject",)},
    object_prefixes={MEDIA_BUCKET.name: LIVE_EVENTS_PREFIX, UPLOADS_BUCKET.name: SOURCES_PREFIX},
)

SERVICE_ROLES = (MEDIACONVERT_ROLE, MEDIALIVE_ROLE)


@dataclass(frozen=True)
class Queue:
    """An SQS queue. `name` is also what the consumer's `on_sqs_message(queue=...)` names, so the
    devstack's pollers and infra's event-source mappings find it; senders read its URL from `env`."""

    name: str
    env: str
    permission: str
    # Seconds a received message stays invisible; infra raises it to 6x the consumer's timeout.
    visibility_timeout: int = 30
    max_receive_count: int = 5


# Every event on the project bus, as EventBridge delivers it (a rule on the bus targets it).
WEBHOOK_EVENTS_QUEUE = Queue(name="videoplane-webhook-events", env="VIDEOPLANE_WEBHOOK_EVENTS_QUEUE_URL",
                             permission="webhook-events-queue")  # fmt: skip
# One message per (event, subscription); retries are re-sent here with a delay.
WEBHOOK_DELIVERIES_QUEUE = Queue(name="videoplane-webhook-deliveries", env="VIDEOPLANE_WEBHOOK_DELIVERIES_QUEUE_URL",
                                 permission="webhook-deliveries-queue", visibility_timeout=60)  # fmt: skip
# Deliveries whose retries are exhausted; they stay listed and redeliverable through the API.
WEBHOOK_DEAD_LETTERS_QUEUE = Queue(name="videoplane-webhook-dead-letters",
                                   env="VIDEOPLANE_WEBHOOK_DEAD_LETTERS_QUEUE_URL",
                                   permission="webhook-dead-letters-queue")  # fmt: skip
WEBHOOK_QUEUES = (WEBHOOK_EVENTS_QUEUE, WEBHOOK_DELIVERIES_QUEUE, WEBHOOK_DEAD_LETTERS_QUEUE)

# Domain events are published with this EventBridge `source`; the webhook rule matches it.
EVENT_SOURCE = "videoplane"
WEBHOOK_RULE_PATTERN: dict[str, Any] = {"source": [EVENT_SOURCE]}
# The table's stream feeds the outbox publisher, its only reader: DynamoDB Streams throttles a
# shard read by more than two processes. Chalice needs a literal ARN at packaging time; infra and
# the devstack connect the real stream by table (the ARN names the table).
TABLE_STREAM_PLACEHOLDER_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/videoplane/stream/outbox"


@dataclass(frozen=True)
class RemovalRoute:
    """Items of `entity` that leave the table (a delete or their TTL) are announced by the outbox
    publisher on the project bus as `ITEM_REMOVED` events with their old image, and a rule sends
    them to `queue`: how a context cleans up after its items without reading the stream itself."""

    entity: str
    queue: Queue

    @property
    def pattern(self) -> dict[str, Any]:
        return {"source": [TABLE_CHANGES_SOURCE], "detail-type": [ITEM_REMOVED], "detail": {"entity": [self.entity]}}


# Not EVENT_SOURCE: the webhook rule must not match these internal announcements.
TABLE_CHANGES_SOURCE = "videoplane.table"
ITEM_REMOVED = "Item Removed"
# A removed video item → its files and leftover items are purged (chalicelib.vod).
VIDEO_REMOVALS_QUEUE = Queue(name="videoplane-video-removals", env="VIDEOPLANE_VIDEO_REMOVALS_QUEUE_URL",
                             permission="video-removals-queue", visibility_timeout=120)  # fmt: skip
# A removed live stream item → its IVS channel is deleted (chalicelib.live).
LIVE_STREAM_REMOVALS_QUEUE = Queue(name="videoplane-live-stream-removals",
                                   env="VIDEOPLANE_LIVE_STREAM_REMOVALS_QUEUE_URL",
                                   permission="live-stream-removals-queue", visibility_timeout=60)  # fmt: skip
# A removed room item → its IVS real-time stage is deleted (chalicelib.rooms).
ROOM_REMOVALS_QUEUE = Queue(name="videoplane-room-removals", env="VIDEOPLANE_ROOM_REMOVALS_QUEUE_URL",
                            permission="room-removals-queue", visibility_timeout=60)  # fmt: skip
REMOVAL_ROUTES = (
    RemovalRoute("video", VIDEO_REMOVALS_QUEUE),
    RemovalRoute("liveStream", LIVE_STREAM_REMOVALS_QUEUE),
    RemovalRoute("room", ROOM_REMOVALS_QUEUE),
)
# Lambda's event filtering on the table stream's mapping (FilterCriteria; the devstack's poller
# applies the same patterns): the outbox publisher is invoked for inserted outbox items and the
# removals it announces, not for every rate counter, idempotency record or item write the API makes.
OUTBOX_ENTITY = "outbox"
TABLE_STREAM_FILTERS: tuple[dict[str, Any], ...] = (
    {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": [OUTBOX_ENTITY]}}}},
    {"eventName": ["REMOVE"], "dynamodb": {"OldImage": {"entity": {"S": sorted({r.entity for r in REMOVAL_ROUTES})}}}},
)
# By the consuming function's name.
STREAM_FILTERS: dict[str, tuple[dict[str, Any], ...]] = {"publish_outbox": TABLE_STREAM_FILTERS}
# Set only by the devstack: webhook receivers there live on 127.0.0.1.
ALLOW_LOOPBACK_WEBHOOKS_ENV = "VIDEOPLANE_ALLOW_LOOPBACK_WEBHOOKS"
# Its sibling for ingest URLs, and the test-only retry-schedule multiplier (config.Settings).
ALLOW_LOOPBACK_INGEST_ENV = "VIDEOPLANE_ALLOW_LOOPBACK_INGEST"
WEBHOOK_RETRY_SCALE_ENV = "VIDEOPLANE_WEBHOOK_RETRY_SCALE"
# Comma-separated loopback ports the allowances above never reach: the devstack's own services.
LOOPBACK_DENY_PORTS_ENV = "VIDEOPLANE_LOOPBACK_DENY_PORTS"


# -- uploads and the VOD pipeline --------------------------------------------------------------

# The uploads bucket's prefixes (INCOMING_PREFIX, ...) are defined with the bucket, above.


@dataclass(frozen=True)
class DirectUploadRoute:
    """A route whose body API Gateway writes straight to the uploads bucket (SDK chunks are
    5-128 MiB; a Lambda takes at most 6 MB). A REQUEST authorizer, which sees only headers,
    decides: its context names the object key and the response the gateway sends back.

    Context keys (strings): `objectKey`, `responseStatus`, `responseBody`, `contentRange`,
    `uploadToken`. The gateway stores the body at `objectKey` as application/octet-stream with
    metadata `content-range` / `upload-token` from the context and `content-type` from the
    request (its multipart boundary)."""

    path: str
    method: str
    authorizer: str


UPLOAD_AUTHORIZER = "authorize_upload"
DIRECT_UPLOAD_ROUTES = (
    DirectUploadRoute("/videos/{videoId}/source", "POST", UPLOAD_AUTHORIZER),
    DirectUploadRoute("/upload", "POST", UPLOAD_AUTHORIZER),
)

# S3 ObjectCreated notifications of the uploads bucket, one queue per prefix.
UPLOAD_PARTS_QUEUE = Queue(name="videoplane-upload-parts", env="VIDEOPLANE_UPLOAD_PARTS_QUEUE_URL",
                           permission="upload-parts-queue", visibility_timeout=120)  # fmt: skip
SOURCES_QUEUE = Queue(name="videoplane-sources", env="VIDEOPLANE_SOURCES_QUEUE_URL",
                      permission="sources-queue", visibility_timeout=120)  # fmt: skip
# MediaConvert job state changes (default bus) for jobs this app submitted.
MEDIA_EVENTS_QUEUE = Queue(name="videoplane-media-events", env="VIDEOPLANE_MEDIA_EVENTS_QUEUE_URL",
                           permission="media-events-queue", visibility_timeout=60)  # fmt: skip
PIPELINE_QUEUES = (UPLOAD_PARTS_QUEUE, SOURCES_QUEUE, MEDIA_EVENTS_QUEUE)
# IVS stream state changes (default bus) of this app's channels.
LIVE_EVENTS_QUEUE = Queue(name="videoplane-live-events", env="VIDEOPLANE_LIVE_EVENTS_QUEUE_URL",
                          permission="live-events-queue", visibility_timeout=60)  # fmt: skip
# A live stream's recorded broadcast (the project bus's live-stream.recording.ended) → its video(s)
# (chalicelib.vod): the seam between the live and VOD contexts is that event.
LIVE_RECORDINGS_QUEUE = Queue(name="videoplane-live-recordings", env="VIDEOPLANE_LIVE_RECORDINGS_QUEUE_URL",
                              permission="live-recordings-queue", visibility_timeout=300)  # fmt: skip
# Managed live events (chalicelib.live): MediaLive's channel events (default bus) and the schedule's
# timers (arm at armAt, end at endAt), which come back on the same queue.
LIVE_EVENT_CHANNELS_QUEUE = Queue(name="videoplane-live-event-channels",
                                  env="VIDEOPLANE_LIVE_EVENT_CHANNELS_QUEUE_URL",
                                  permission="live-event-channels-queue", visibility_timeout=120)  # fmt: skip
# Managed live events' health changes (the project bus's live-event.health.changed) → the push
# channel's consumer, which sends the health document to each subscribed connection.
LIVE_EVENT_HEALTH_QUEUE = Queue(name="videoplane-live-event-health", env="VIDEOPLANE_LIVE_EVENT_HEALTH_QUEUE_URL",
                                permission="live-event-health-queue", visibility_timeout=60)  # fmt: skip
LIVE_QUEUES = (LIVE_EVENTS_QUEUE, LIVE_RECORDINGS_QUEUE, LIVE_EVENT_CHANNELS_QUEUE, LIVE_EVENT_HEALTH_QUEUE)
# Rooms' sessions (chalicelib.rooms.consumers.sessions): IVS stage updates (default bus), the
# `room.session.started` events (project bus) that start a session's poll loop, and its timers.
ROOM_EVENTS_QUEUE = Queue(name="videoplane-room-events", env="VIDEOPLANE_ROOM_EVENTS_QUEUE_URL",
                          permission="room-events-queue", visibility_timeout=60)  # fmt: skip
ROOM_QUEUES = (ROOM_EVENTS_QUEUE,)
# The video events that may change a video's privacy, and video removals → the playback context,
# which keeps the edge's list of private videos current (BUS_ROUTES below).
PLAYBACK_VIDEOS_QUEUE = Queue(name="videoplane-playback-videos", env="VIDEOPLANE_PLAYBACK_VIDEOS_QUEUE_URL",
                              permission="playback-videos-queue", visibility_timeout=60)  # fmt: skip
PLAYBACK_QUEUES = (PLAYBACK_VIDEOS_QUEUE,)
# The domain events the usage counters count → the analytics context (BUS_ROUTES below).
USAGE_EVENTS_QUEUE = Queue(name="videoplane-usage-events", env="VIDEOPLANE_USAGE_EVENTS_QUEUE_URL",
                           permission="usage-events-queue", visibility_timeout=60)  # fmt: skip
ANALYTICS_QUEUES = (USAGE_EVENTS_QUEUE,)
QUEUES = (*WEBHOOK_QUEUES, *PIPELINE_QUEUES, *LIVE_QUEUES, *(route.queue for route in REMOVAL_ROUTES),
          *ROOM_QUEUES, *PLAYBACK_QUEUES, *ANALYTICS_QUEUES)  # fmt: skip
BUCKET_NOTIFICATIONS = ((INCOMING_PREFIX, UPLOAD_PARTS_QUEUE), (SOURCES_PREFIX, SOURCES_QUEUE))

MEDIA_APP_TAG = APP_NAME
MEDIACONVERT_RULE_PATTERN: dict[str, Any] = {
    "source": ["aws.mediaconvert"],
    "detail-type": ["MediaConvert Job State Change"],
    "detail": {"userMetadata": {"app": [MEDIA_APP_TAG]}},
}
# Public base URL of the media bucket (CloudFront on AWS, the devstack's media server locally).
MEDIA_BASE_URL_ENV = "VIDEOPLANE_MEDIA_BASE_URL"
# Where players are served (api.video's embed.api.video).
PLAYER_BASE_URL_ENV = "VIDEOPLANE_PLAYER_BASE_URL"
# Keys that sign private videos' playback sessions, `kid:base64url,...`, the signing one first
# (chalicelib/playback/domain/access.py); the media server (the edge on AWS) checks with them.
PLAYBACK_SESSION_KEYS_ENV = "VIDEOPLANE_PLAYBACK_SESSION_KEYS"
# The viewer's country (CloudFront-Viewer-Country) is believed only on requests that came through
# the media distribution: CloudFront adds CDN_ORIGIN_HEADER with the value of the secret named by
# CDN_ORIGIN_SECRET_ENV (AWS). The devstack has no CDN and believes the header as sent
# (TRUST_VIEWER_COUNTRY_ENV = "1"; cloud configuration never sets it). docs/playback.md.
CDN_ORIGIN_HEADER = "X-Videoplane-Origin-Verify"
CDN_ORIGIN_SECRET_ENV = "VIDEOPLANE_CDN_ORIGIN_SECRET_ID"
CDN_ORIGIN_SECRET = "cdn-origin-secret"
TRUST_VIEWER_COUNTRY_ENV = "VIDEOPLANE_TRUST_VIEWER_COUNTRY"
LIVE_PLAYBACK_KEY_ENV = "VIDEOPLANE_LIVE_PLAYBACK_KEY"
# On AWS the same key is in a secret the stack makes at deploy time (infra/live_playback_key.py);
# this variable names it and replaces LIVE_PLAYBACK_KEY_ENV (which stays the devstack's inline PEM).
LIVE_PLAYBACK_KEY_SECRET_ENV = "VIDEOPLANE_LIVE_PLAYBACK_KEY_SECRET"
LIVE_PLAYBACK_KEY_SECRET = "live-playback-key-secret"


# -- live streams (chalicelib.live) ----------------------------------------------------------------

# Every live stream's IVS channel is named `videoplane-{projectId}-{liveStreamId}`
# (chalicelib.live.domain.live_streams.channel_name): the rule keeps other channels' events out.
LIVE_CHANNEL_NAME_PREFIX = f"{APP_NAME}-"
IVS_RULE_PATTERN: dict[str, Any] = {
    "source": ["aws.ivs"],
    "detail-type": ["IVS Stream State Change", "IVS Recording State Change"],
    "detail": {"channel_name": [{"prefix": LIVE_CHANNEL_NAME_PREFIX}]},
}
# IVS channel type of new live streams: STANDARD (transcoded ladder) or BASIC (source passed through).
LIVE_CHANNEL_TYPE_ENV = "VIDEOPLANE_LIVE_CHANNEL_TYPE"
# The IVS recording configuration recorded streams use (to the media bucket); empty: not recorded yet.
LIVE_RECORDING_CONFIGURATION_ENV = "VIDEOPLANE_LIVE_RECORDING_CONFIGURATION_ARN"
# Where restream relays run (JSON: cluster, taskDefinition, container, subnets, securityGroups;
# chalicelib.live.adapters.relays.RelayTaskSettings): infra's relay cluster, the devstack's ECS plane.
LIVE_RELAYS_ENV = "VIDEOPLANE_LIVE_RELAYS"
# Ingest URL templates per protocol (`{endpoint}` is the channel's); IVS's ports by default, the
# devstack's loopback ports there.
LIVE_INGEST_ENVS = {
    "rtmps": "VIDEOPLANE_LIVE_INGEST_RTMPS",
    "rtmp": "VIDEOPLANE_LIVE_INGEST_RTMP",
    "srt": "VIDEOPLANE_LIVE_INGEST_SRT",
}

# Managed live events (MediaLive): the CIDRs allowed to push to their inputs (comma-separated;
# 0.0.0.0/0 by default, loopback on the devstack), and the Secrets Manager secret holding the SRT
# passphrase SRT_LISTENER inputs decrypt with (unset: SRT routes are refused).
LIVE_EVENT_INGEST_CIDRS_ENV = "VIDEOPLANE_LIVE_EVENT_INGEST_CIDRS"
LIVE_EVENT_SRT_SECRET_ENV = "VIDEOPLANE_LIVE_EVENT_SRT_SECRET_ARN"
# The health push channel (docs/live.md, "Health push channel"): the WebSocket URL clients open
# (`wss://<api>.execute-api.<region>.amazonaws.com/<stage>` on AWS, the devstack's ws://), the
# connections' callback URL the API Gateway Management API is called at (`https://.../<stage>`),
# and the devstack's server-sent-events URL (unset on AWS). Unset URL: subscriptions are refused (503).
LIVE_EVENT_HEALTH_PUSH_URL_ENV = "VIDEOPLANE_LIVE_EVENT_HEALTH_PUSH_URL"
LIVE_EVENT_HEALTH_CALLBACK_URL_ENV = "VIDEOPLANE_LIVE_EVENT_HEALTH_CALLBACK_URL"
LIVE_EVENT_HEALTH_STREAM_URL_ENV = "VIDEOPLANE_LIVE_EVENT_HEALTH_STREAM_URL"
# The WebSocket API's `$connect` and `$disconnect` functions (app.lambda_function names) and its
# symbolic resource in permissions (execute-api:ManageConnections on its stage's @connections).
LIVE_EVENT_HEALTH_CONNECT = "connect_live_event_health"
LIVE_EVENT_HEALTH_DISCONNECT = "disconnect_live_event_health"
# ...and its `$default` route: any message from a client is answered with the current document.
LIVE_EVENT_HEALTH_REQUEST = "request_live_event_health"
LIVE_EVENT_HEALTH_API = "live-event-health-api"
LIVE_EVENT_HEALTH_EVENT = "live-event.health.changed"

# The stack's one IVS recording configuration (IVS CreateRecordingConfiguration's request; infra
# builds it as AWS::IVS::RecordingConfiguration, the devstack creates it on its IVS plane). To the
# media bucket (`bucketName` is filled in with the stack's), no thumbnails (the VOD pipeline makes
# the video's), and no reconnect window: IVS's window is per configuration while a live stream's
# is its own (0-300 s), so every IVS session is recorded alone and the live context joins the
# sessions of one broadcast (docs/live.md, "Recordings").
LIVE_RECORDING_CONFIGURATION: dict[str, Any] = {
    "name": f"{APP_NAME}-recordings",
    "destinationConfiguration": {"s3": {"bucketName": ""}},
    "recordingReconnectWindowSeconds": 0,
    "thumbnailConfiguration": {"recordingMode": "DISABLED"},
}
# MediaLive's channel events of the account (they name the channel only by ARN, so no pattern
# can keep other channels' out: the consumer drops channels no live event holds).
MEDIALIVE_RULE_PATTERN: dict[str, Any] = {
    "source": ["aws.medialive"],
    "detail-type": ["MediaLive Channel State Change", "MediaLive Channel Alert", "MediaLive Channel Input Change"],
}
# Incident automation's CloudWatch alarms on managed live events' channel metrics (named
# `<prefix><projectId>-<liveEventId>-<metric>`, chalicelib.live.domain.incidents): their state
# changes go to the live-event-channels queue too.
INCIDENT_ALARM_PREFIX = f"{APP_NAME}-live-event-"
INCIDENT_ALARM_RULE_PATTERN: dict[str, Any] = {
    "source": ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    "detail": {"alarmName": [{"prefix": INCIDENT_ALARM_PREFIX}]},
}
# Recorded broadcasts, announced by the live context on the project bus, to the VOD context.
LIVE_RECORDING_ENDED = "live-stream.recording.ended"
LIVE_RECORDINGS_RULE_PATTERN: dict[str, Any] = {
    "source": [EVENT_SOURCE],
    "detail-type": [LIVE_RECORDING_ENDED, "room.recording.ended"],
}

# -- rooms (chalicelib.rooms) ------------------------------------------------------------------------

# IVS real-time's participant publish/unpublish events of every stage in the account (the event has
# no stage name to filter on; the consumer keeps the stages tagged as this app's).
# Also its compositions' state changes (a room's recording: "Session End" means it is stored).
IVS_STAGE_RULE_PATTERN: dict[str, Any] = {
    "source": ["aws.ivs"],
    "detail-type": ["IVS Stage Update", "IVS Composition State Change"],
}
# A session's start (its first poll) and end (an ad hoc room goes with it), from the outbox on the project bus.
ROOM_SESSION_RULE_PATTERN: dict[str, Any] = {
    "source": [EVENT_SOURCE],
    "detail-type": ["room.session.started", "room.session.ended", "room.recording.ready"],
}
# Set only by the devstack: its stage plane's WHEP-style subscribe URL, `{stageId}` in it (IVS has
# none: its Web Broadcast SDK subscribes with the participant token), answered as `media.whepUrl`.
ROOMS_WHEP_URL_ENV = "VIDEOPLANE_ROOMS_WHEP_URL"
# Rooms' recordings are IVS compositions to the media bucket (docs/rooms.md, "Recordings"): one
# storage configuration and one encoder configuration per stack (infra builds them; the devstack
# creates them on its stage plane); their ARNs reach the functions through these variables.
ROOM_STORAGE_CONFIGURATION_ENV = "VIDEOPLANE_ROOM_STORAGE_CONFIGURATION_ARN"
ROOM_ENCODER_CONFIGURATION_ENV = "VIDEOPLANE_ROOM_ENCODER_CONFIGURATION_ARN"
ROOM_STORAGE_CONFIGURATION: dict[str, Any] = {"name": f"{APP_NAME}-room-recordings", "s3": {"bucketName": ""}}
# 720p30 (IVS's composition default, and the most a stage takes from a publisher).
ROOM_ENCODER_CONFIGURATION: dict[str, Any] = {
    "name": f"{APP_NAME}-room-recordings",
    "video": {"width": 1280, "height": 720, "framerate": 30, "bitrate": 2_500_000},
}
# A room's stored recording, announced by the rooms context, to the VOD context's import (as
# live-stream.recording.ended: the same queue and service).
ROOM_RECORDING_ENDED = "room.recording.ended"


# -- rules on the project bus for one context's queue -------------------------------------------


@dataclass(frozen=True)
class BusRoute:
    """A rule on the project bus sending the events `pattern` matches to `queue` (domain events or
    announced removals a context acts on besides the webhook dispatcher and REMOVAL_ROUTES)."""

    name: str
    pattern: dict[str, Any]
    queue: Queue


# Video events after which a video's privacy may differ, and removed video items: the playback
# consumer reads the video again and writes the edge's store (chalicelib.playback.consumers.edge).
PLAYBACK_VIDEO_EVENTS = ("video.created", "video.updated")
# A project's geo restriction changed: the same consumer writes it to the edge's store.
PLAYBACK_GEO_EVENT = "playback-geo.updated"
# The same for live streams (their files in the media bucket: the uploaded thumbnail).
PLAYBACK_LIVE_STREAM_EVENTS = ("live-stream.created", "live-stream.updated")
USAGE_EVENT_TYPES = ("video.ready", "live-stream.broadcast.started", "live-stream.broadcast.ended", "room.cdr.ready")
BUS_ROUTES = (
    BusRoute("playback-videos", {"source": [EVENT_SOURCE], "detail-type": list(PLAYBACK_VIDEO_EVENTS)},
             PLAYBACK_VIDEOS_QUEUE),
    BusRoute("playback-video-removals", RemovalRoute("video", PLAYBACK_VIDEOS_QUEUE).pattern, PLAYBACK_VIDEOS_QUEUE),
    BusRoute("playback-geo", {"source": [EVENT_SOURCE], "detail-type": [PLAYBACK_GEO_EVENT]}, PLAYBACK_VIDEOS_QUEUE),
    # Private live streams' thumbnails at the edge (docs/live.md, "The embed page and private live streams").
    BusRoute("playback-live-streams", {"source": [EVENT_SOURCE], "detail-type": list(PLAYBACK_LIVE_STREAM_EVENTS)},
             PLAYBACK_VIDEOS_QUEUE),
    BusRoute("playback-live-stream-removals", RemovalRoute("liveStream", PLAYBACK_VIDEOS_QUEUE).pattern,
             PLAYBACK_VIDEOS_QUEUE),
    BusRoute("room-sessions", ROOM_SESSION_RULE_PATTERN, ROOM_EVENTS_QUEUE),
    # The live context's recorded broadcasts to the VOD context's import (docs/live.md, "Recordings").
    BusRoute("live-recordings", LIVE_RECORDINGS_RULE_PATTERN, LIVE_RECORDINGS_QUEUE),
    # Encoded videos and live broadcasts to the usage counters (chalicelib.analytics, docs/analytics.md).
    BusRoute("usage-events", {"source": [EVENT_SOURCE], "detail-type": list(USAGE_EVENT_TYPES)}, USAGE_EVENTS_QUEUE),
    # Managed live events' health changes to the push channel (docs/live.md, "Health push channel").
    BusRoute("live-event-health", {"source": [EVENT_SOURCE], "detail-type": [LIVE_EVENT_HEALTH_EVENT]},
             LIVE_EVENT_HEALTH_QUEUE),
)  # fmt: skip
# The CloudFront KeyValueStore the edge check reads (infra/edge.py); unset on the devstack, whose
# media server reads the table instead. Its symbolic resource in permissions.
PLAYBACK_EDGE_STORE_ENV = "VIDEOPLANE_PLAYBACK_EDGE_STORE_ARN"
PLAYBACK_EDGE_STORE = "playback-edge-store"
# The secret holding the playback session keys on AWS (JSON, chalicelib/playback/domain/session_keys.py),
# rotated with an overlap and copied to the edge's store.
PLAYBACK_SESSION_SECRET_ENV = "VIDEOPLANE_PLAYBACK_SESSION_SECRET_ID"
PLAYBACK_SESSION_SECRET = "playback-session-secret"


# -- analytics (chalicelib.analytics) ------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryStream:
    """The Kinesis Data Firehose stream that carries player beacons to the analytics bucket.

    On AWS it partitions by the record's `project` and `dt` (dynamic partitioning, a JQ query)
    and compresses with GZIP; moto writes each batch as it comes, under the prefix as written
    (no partitioning, no compression), which the DuckDB executor reads the same way (the records
    carry `project` and `dt` themselves)."""

    name: str
    env: str
    permission: str
    bucket: Bucket
    prefix: str
    error_prefix: str
    # Seconds and MiB Firehose buffers before it writes an object (its minimum with dynamic
    # partitioning is 60 s): the freshness of /data on AWS.
    buffer_seconds: int = 60
    buffer_mib: int = 64

    def extended_s3(self, bucket_arn: str, role_arn: str) -> dict[str, Any]:
        """Firehose CreateDeliveryStream's ExtendedS3DestinationConfiguration (infra translates it)."""
        return {
            "RoleARN": role_arn,
            "BucketARN": bucket_arn,
            "Prefix": self.prefix,
            "ErrorOutputPrefix": self.error_prefix,
            "BufferingHints": {"IntervalInSeconds": self.buffer_seconds, "SizeInMBs": self.buffer_mib},
            "CompressionFormat": "GZIP",
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "MetadataExtraction",
                        "Parameters": [
                            {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{project:.project,dt:.dt}"},
                            {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                        ],
                    }
                ],
            },
        }


ANALYTICS_STREAM = DeliveryStream(
    name="videoplane-beacons",
    env="VIDEOPLANE_ANALYTICS_STREAM",
    permission="analytics-stream",
    bucket=ANALYTICS_BUCKET,
    prefix=ANALYTICS_EVENTS_PREFIX + "project=!{partitionKeyFromQuery:project}/dt=!{partitionKeyFromQuery:dt}/",
    error_prefix=ANALYTICS_ERRORS_PREFIX + "!{firehose:error-output-type}/",
)
# The Glue database and table Athena reads (partition projection on project and dt), and the
# workgroup that holds the query-result location and a per-query scan limit.
ANALYTICS_DATABASE = "videoplane_analytics"
ANALYTICS_TABLE = "events"
ANALYTICS_WORKGROUP = "videoplane-analytics"
ANALYTICS_DATABASE_ENV = "VIDEOPLANE_ANALYTICS_DATABASE"
ANALYTICS_WORKGROUP_ENV = "VIDEOPLANE_ANALYTICS_WORKGROUP"
# GET /account's quota: minutes encoded per calendar month (config.Settings.usage_quota_minutes).
USAGE_QUOTA_MINUTES_ENV = "VIDEOPLANE_USAGE_QUOTA_MINUTES"
# "1": the event store has the hourly rollup table (the devstack's plane; on AWS the Glue `hourly` table).
ANALYTICS_ROLLUP_ENV = "VIDEOPLANE_ANALYTICS_ROLLUP"
# The event table's columns, in Glue's types; the DuckDB executor reads the files with the same.
ANALYTICS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ts", "bigint"),
    ("received", "bigint"),
    ("session_id", "string"),
    ("media_id", "string"),
    ("media_type", "string"),
    ("event", "string"),
    ("playhead", "double"),
    ("watched", "double"),
    ("startup_ms", "bigint"),
    ("seek_from", "double"),
    ("rendition", "string"),
    ("error", "string"),
    ("player_id", "string"),
    ("referrer", "string"),
    ("device_type", "string"),
    ("operating_system", "string"),
    ("browser", "string"),
    ("country", "string"),
    ("continent", "string"),
    ("source", "string"),
    # The player's session metadata (api.video's `metadata`), one JSON object; NULL: none.
    ("metadata", "string"),
)
ANALYTICS_PARTITIONS: tuple[tuple[str, str], ...] = (("project", "string"), ("dt", "string"))
