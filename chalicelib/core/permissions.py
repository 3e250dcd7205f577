"""What each Lambda function may do in AWS, declared next to its code and read by infra/.

Resources are symbolic (`table`, `signing-secret`); infra maps them to ARNs. Keeping the
declaration beside the view means a new route cannot ship without saying what it touches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Access:
    service: str
    actions: tuple[str, ...]
    resource: str

    def iam_actions(self) -> list[str]:
        return [f"{self.service}:{action}" for action in self.actions]


TABLE_READ = Access("dynamodb", ("GetItem", "Query"), "table")
TABLE_INDEX_READ = Access("dynamodb", ("Query",), "table-indexes")
TABLE_WRITE = Access("dynamodb", ("PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"), "table")
SIGNING_KEYS_READ = Access("secretsmanager", ("GetSecretValue",), "signing-secret")
EVENT_BUS_PUT = Access("events", ("PutEvents",), "event-bus")
WEBHOOK_DELIVERIES_SEND = Access("sqs", ("SendMessage",), "webhook-deliveries-queue")
WEBHOOK_DEAD_LETTERS_SEND = Access("sqs", ("SendMessage",), "webhook-dead-letters-queue")
# What an SQS event-source mapping needs on the queue it reads.
_CONSUME = ("ReceiveMessage", "ChangeMessageVisibility", "GetQueueUrl", "DeleteMessage", "GetQueueAttributes")
WEBHOOK_EVENTS_CONSUME = Access("sqs", _CONSUME, "webhook-events-queue")
WEBHOOK_DELIVERIES_CONSUME = Access("sqs", _CONSUME, "webhook-deliveries-queue")
UPLOAD_PARTS_CONSUME = Access("sqs", _CONSUME, "upload-parts-queue")
SOURCES_CONSUME = Access("sqs", _CONSUME, "sources-queue")
MEDIA_EVENTS_CONSUME = Access("sqs", _CONSUME, "media-events-queue")
VIDEO_REMOVALS_CONSUME = Access("sqs", _CONSUME, "video-removals-queue")
LIVE_STREAM_REMOVALS_CONSUME = Access("sqs", _CONSUME, "live-stream-removals-queue")
ROOM_REMOVALS_CONSUME = Access("sqs", _CONSUME, "room-removals-queue")
LIVE_EVENTS_CONSUME = Access("sqs", _CONSUME, "live-events-queue")
# The reconnect window's timers: delayed messages to the live-events queue itself.
LIVE_EVENTS_SEND = Access("sqs", ("SendMessage",), "live-events-queue")
LIVE_RECORDINGS_CONSUME = Access("sqs", _CONSUME, "live-recordings-queue")
LIVE_EVENT_CHANNELS_CONSUME = Access("sqs", _CONSUME, "live-event-channels-queue")
# Managed live events' schedule timers (delayed messages to that queue).
LIVE_EVENT_CHANNELS_SEND = Access("sqs", ("SendMessage",), "live-event-channels-queue")
# Live recordings (written by IVS to the media bucket) read into a video's source.
MEDIA_OBJECTS_READ = Access("s3", ("GetObject",), "media-bucket")
UPLOADS_OBJECTS_WRITE = Access(
    "s3",
    ("GetObject", "PutObject", "DeleteObject", "AbortMultipartUpload", "ListMultipartUploadParts"),
    "uploads-bucket",
)
UPLOADS_OBJECTS_READ = Access("s3", ("GetObject",), "uploads-bucket")
# Ingest by URL or copy, and direct multipart uploads: CreateMultipartUpload, UploadPart(Copy),
# CompleteMultipartUpload and CopyObject's write are all s3:PutObject; HeadObject is s3:GetObject.
UPLOADS_SOURCES_WRITE = Access("s3", ("PutObject", "AbortMultipartUpload"), "uploads-bucket")
UPLOADS_PARTS_LIST = Access("s3", ("ListMultipartUploadParts",), "uploads-bucket")
UPLOADS_PUT = Access("s3", ("PutObject",), "uploads-bucket")
UPLOADS_ABORT = Access("s3", ("AbortMultipartUpload",), "uploads-bucket")
# The create route queues URL and copy ingests next to S3's notifications of new sources.
SOURCES_SEND = Access("sqs", ("SendMessage",), "sources-queue")
# A purged video's files: ListObjectsV2 is s3:ListBucket; DeleteObjects is s3:DeleteObject per key.
UPLOADS_PURGE = Access("s3", ("ListBucket", "DeleteObject"), "uploads-bucket")
MEDIA_PURGE = Access("s3", ("ListBucket", "DeleteObject"), "media-bucket")
MEDIA_OBJECTS_WRITE = Access("s3", ("GetObject", "PutObject", "DeleteObject"), "media-bucket")
# CreateJob and Probe act on the account's queues and presets; the role they pass is scoped.
MEDIACONVERT_JOBS = Access("mediaconvert", ("CreateJob", "Probe"), "mediaconvert")
MEDIACONVERT_PASS_ROLE = Access("iam", ("PassRole",), "mediaconvert-role")
# Live streams: one IVS channel per stream, created at run time (never in the template); the
# channel's tags are set by CreateChannel (ivs:TagResource). Scoped to this account's channels and
# stream keys in this region.
IVS_CHANNELS_CREATE = Access("ivs", ("CreateChannel", "TagResource"), "ivs")
IVS_STREAM_KEYS_RESET = Access("ivs", ("ListStreamKeys", "DeleteStreamKey", "CreateStreamKey"), "ivs")
IVS_STREAMS = Access("ivs", ("GetStream", "StopStream"), "ivs")
# `public` flips the channel's `authorized` (private streams need playback JWTs).
IVS_CHANNELS_UPDATE = Access("ivs", ("UpdateChannel",), "ivs")
IVS_CHANNELS_DELETE = Access("ivs", ("ListChannels", "GetStream", "StopStream", "DeleteChannel"), "ivs")
# Restream relays: one ECS task per restream target (chalicelib.live.adapters.relays), of the stack's
# relay task definition on its relay cluster; RunTask passes the task's roles to ECS.
RESTREAM_RELAYS = Access("ecs", ("RunTask", "ListTasks", "StopTask"), "restream-relays")
RESTREAM_RELAYS_PASS_ROLE = Access("iam", ("PassRole",), "restream-relay-roles")
# Rooms: one IVS real-time stage per room, created at run time (never in the template). ListStages
# has no resource type (granted on "*"); the rest act on this account's stages in the region.
IVS_STAGES_CREATE = Access("ivs", ("CreateStage", "TagResource"), "ivs-stages")
IVS_STAGES_JOIN = Access("ivs", ("GetStage", "ListParticipants", "CreateParticipantToken"), "ivs-stages")
IVS_STAGES_DELETE = Access("ivs", ("ListStages", "DeleteStage"), "ivs-stages")
IVS_STAGES_DISCONNECT = Access("ivs", ("DisconnectParticipant",), "ivs-stages")
# Rooms' recordings: StartComposition acts on the stage, the storage and encoder configurations
# and the new composition (tagged); StopComposition on the composition ("ivs-stages" covers
# this account's stages and compositions, and the stack's own two configurations, in infra).
IVS_COMPOSITIONS = Access("ivs", ("StartComposition", "StopComposition", "TagResource"), "ivs-compositions")
# Analytics: beacons into the Firehose stream; /data queries through Athena, which reads the Glue
# catalog and the bucket's event files and writes its results under the bucket's query-results/.
ANALYTICS_STREAM_PUT = Access("firehose", ("PutRecordBatch",), "analytics-stream")
ANALYTICS_QUERIES = Access(
    "athena",
    ("StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution"),
    "analytics-workgroup",
)
ANALYTICS_CATALOG_READ = Access("glue", ("GetDatabase", "GetTable", "GetPartitions"), "analytics-catalog")
ANALYTICS_OBJECTS_QUERY = Access(
    "s3", ("GetBucketLocation", "ListBucket", "GetObject", "PutObject", "AbortMultipartUpload"), "analytics-bucket"
)
# The hourly rollup's INSERT INTO adds the hour's partitions and replaces an earlier run's files.
ANALYTICS_CATALOG_WRITE = Access(
    "glue", ("GetPartition", "CreatePartition", "BatchCreatePartition"), "analytics-catalog"
)
ANALYTICS_ROLLUP_REPLACE = Access("s3", ("DeleteObject",), "analytics-bucket")
SIGNING_KEYS_WRITE = Access("secretsmanager", ("PutSecretValue",), "signing-secret")
# Room sessions: the poll reads a stage's participants and their events, and ends overlong sessions.
IVS_STAGES_WATCH = Access(
    "ivs", ("GetStage", "ListParticipants", "ListParticipantEvents", "DisconnectParticipant"), "ivs-stages"
)
ROOM_EVENTS_CONSUME = Access("sqs", _CONSUME, "room-events-queue")
# The session poll loop's timers: delayed messages to the room-events queue itself.
ROOM_EVENTS_SEND = Access("sqs", ("SendMessage",), "room-events-queue")
# The edge check's store (infra/edge.py): private video ids and playback session keys, written with
# the store's ETag (DescribeKeyValueStore) as IfMatch.
PLAYBACK_EDGE_WRITE = Access(
    "cloudfront-keyvaluestore", ("DescribeKeyValueStore", "PutKey", "DeleteKey", "UpdateKeys"), "playback-edge-store"
)
PLAYBACK_VIDEOS_CONSUME = Access("sqs", _CONSUME, "playback-videos-queue")
USAGE_EVENTS_CONSUME = Access("sqs", _CONSUME, "usage-events-queue")
MEDIA_LIST = Access("s3", ("ListBucket",), "media-bucket")
# Bytes stored: the project's sources (and unfinished uploads) in the uploads bucket.
UPLOADS_LIST = Access("s3", ("ListBucket",), "uploads-bucket")
PLAYBACK_SESSION_KEYS_READ = Access("secretsmanager", ("GetSecretValue",), "playback-session-secret")
# The value CloudFront sends the API as resources.CDN_ORIGIN_HEADER (infra/player.py).
CDN_ORIGIN_SECRET_READ = Access("secretsmanager", ("GetSecretValue",), "cdn-origin-secret")
PLAYBACK_SESSION_KEYS_WRITE = Access("secretsmanager", ("GetSecretValue", "PutSecretValue"), "playback-session-secret")
# The P-384 key signing IVS playback JWTs of private live streams (infra/live_playback_key.py).
LIVE_PLAYBACK_KEY_READ = Access("secretsmanager", ("GetSecretValue",), "live-playback-key-secret")

# Managed live events: one MediaLive channel, its inputs and security group per event, made when
# it is armed (tagged at creation: CreateTags) and deleted when it ends; the channel runs as the
# MediaLive role (iam:PassRole). The List* actions name no resource (infra.functions.UNSCOPED_ACTIONS).
MEDIALIVE_CHANNELS_ARM = Access(
    "medialive",
    ("ListInputSecurityGroups", "CreateInputSecurityGroup", "ListInputs", "CreateInput", "DescribeInput",
     "ListChannels", "CreateChannel", "DescribeChannel", "StartChannel", "CreateTags"),
    "medialive",
)  # fmt: skip
MEDIALIVE_PASS_ROLE = Access("iam", ("PassRole",), "medialive-role")
MEDIALIVE_CHANNELS_RELEASE = Access(
    "medialive",
    ("ListChannels", "DescribeChannel", "StopChannel", "DeleteChannel", "ListInputs", "DeleteInput",
     "ListInputSecurityGroups", "DeleteInputSecurityGroup"),
    "medialive",
)  # fmt: skip
# The operator's route override: an immediate input switch in the channel's schedule.
MEDIALIVE_SCHEDULE = Access("medialive", ("BatchUpdateSchedule",), "medialive")
# The health push channel: its consumer reads the health queue and posts to (or drops) connections
# of the WebSocket API (API Gateway Management API: execute-api:ManageConnections on its @connections).
LIVE_EVENT_HEALTH_CONSUME = Access("sqs", _CONSUME, "live-event-health-queue")
LIVE_EVENT_HEALTH_CONNECTIONS = Access("execute-api", ("ManageConnections",), "live-event-health-api")
# Incident automation: CloudWatch alarms on each event's channel metrics, made when it is armed and
# deleted when it ends (chalicelib.live.domain.incidents; named with resources.INCIDENT_ALARM_PREFIX).
INCIDENT_ALARMS = Access("cloudwatch", ("PutMetricAlarm", "DeleteAlarms"), "incident-alarms")

# Every authenticated route counts its request (UpdateItem) and audits denials (PutItem);
# POST and PATCH also keep idempotency records (Get/Put/Update/Delete).
AUTHENTICATED = (TABLE_READ, TABLE_WRITE)

REGISTRY: dict[str, frozenset[Access]] = {}


def declare(function_name: str, accesses: Iterable[Access]) -> None:
    REGISTRY[function_name] = REGISTRY.get(function_name, frozenset()) | frozenset(accesses)
