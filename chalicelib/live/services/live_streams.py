"""Live stream use-cases: create (with its IVS channel), read, list, update, reset the stream key,
complete, delete; and releasing the channel of a stream that is gone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.core import ids
from chalicelib.core.domain import audit, events, images
from chalicelib.core.domain.access import Actor
from chalicelib.core.domain.errors import Conflict, InvalidInput, NotFound, Problem
from chalicelib.core.domain.pagination import Page, PageRequest, paginate
from chalicelib.core.observability import logger
from chalicelib.core.ports import MediaFiles
from chalicelib.core.services import stored_images
from chalicelib.live.domain import broadcasts, live_streams, recordings
from chalicelib.live.domain.live_streams import (
    LiveStream,
    LiveStreamCreation,
    LiveStreamQuery,
    LiveStreamUpdate,
    LiveThumbnail,
)
from chalicelib.live.ports import LiveChannels, LiveStreamRepository
from chalicelib.live.services.restreams import RestreamService

# A PATCH merges fields, so re-reading and re-applying after a lost race is safe.
UPDATE_ATTEMPTS = 3
RESOURCE = "liveStream"
# Tags on every channel, so an operator (or a sweep) can tell whose it is.
TAG_APP, TAG_PROJECT, TAG_LIVE_STREAM = "videoplane:app", "videoplane:projectId", "videoplane:liveStreamId"


class LiveStreamService:
    def __init__(
        self,
        repository: LiveStreamRepository,
        channels: Callable[[], LiveChannels],
        clock: Callable[[], datetime],
        player_exists: Callable[[str, str], bool] = lambda project_id, player_id: True,
        files: Callable[[], MediaFiles] | None = None,
        restreams: RestreamService | None = None,
    ) -> None:
        self.repository = repository
        # A PATCH of `restreams` while broadcasting changes only the relays of the targets it changes.
        self.restreams = restreams
        # Built on first use: reads and lists never touch IVS.
        self.channels = channels
        self.clock = clock
        self.player_exists = player_exists
        self.files = files

    def _require_player(self, actor: Actor, player_id: str | None) -> None:
        """A live stream plays with a player of its own project (playback context)."""
        if player_id is not None and not self.player_exists(actor.project_id, player_id):
            raise InvalidInput([Problem("invalid-attribute", "The player does not exist in this project.", "playerId")])

    def create(self, actor: Actor, payload: LiveStreamCreation) -> LiveStream:
        """1. store the stream `provisioning` under its channel's name, expiring in an hour;
        2. create the channel and its key; 3. store it `ready` with its audit entry and event.
        A crash after 1 or 2 leaves an expiring item whose removal deletes the channel by name
        (release): nothing leaks, and no client ever sees the half-made stream."""
        self._require_player(actor, payload.player_id)
        pending = live_streams.new_live_stream(actor.project_id, payload, self.clock())
        self.repository.reserve(pending)
        tags = {TAG_APP: "videoplane", TAG_PROJECT: actor.project_id, TAG_LIVE_STREAM: pending.live_stream_id}
        try:
            channel, key = self.channels().create_channel(
                pending.channel_name, tags, pending.record, authorized=not pending.public
            )
            ready = live_streams.provisioned(pending, channel, key)
            entry = audit.record(
                actor, "live-stream.create", RESOURCE, ready.live_stream_id, self.clock(),
                after=live_streams.snapshot(ready),
            )  # fmt: skip
            created = events.LiveStreamCreated(
                **self._envelope(actor), liveStreamId=ready.live_stream_id, name=ready.name
            )
            self.repository.activate(ready, pending.version, entry, [created])
        except Exception:
            self._give_up(pending)
            raise
        return ready

    def _give_up(self, pending: LiveStream) -> None:
        """Best effort, now; the item's expiry does the same later if this fails too."""
        try:
            self.repository.delete(pending, pending.version, None, [])
        except Exception:  # noqa: BLE001 - the expiry is the safety net
            logger.warning("provisioning stream left to expire", extra={"liveStreamId": pending.live_stream_id})

    def get(self, actor: Actor, live_stream_id: str) -> LiveStream:
        stream = self.repository.get(actor.project_id, live_stream_id)
        if stream is None or not stream.ready:
            raise NotFound(name="liveStreamId")
        return stream

    def list(self, actor: Actor, query: LiveStreamQuery, page: PageRequest) -> Page[LiveStream]:
        return paginate(live_streams.select(self.repository.list_all(actor.project_id), query), page)

    def update(self, actor: Actor, live_stream_id: str, payload: LiveStreamUpdate) -> LiveStream:
        self._require_player(actor, payload.player_id)
        if payload.public is not None:
            current = self.get(actor, live_stream_id)
            if current.public != payload.public and current.channel is not None:
                # The channel first: a stream stored private never has a public channel. A retry
                # after a failed save sets the same value again.
                self.channels().set_authorized(current.channel.arn, not payload.public)
        return self._change(
            actor,
            live_stream_id,
            "live-stream.update",
            lambda s: live_streams.apply_update(s, payload.changes(), self.clock()),
            replan=True,
        )

    def upload_thumbnail(self, actor: Actor, live_stream_id: str, data: bytes) -> LiveStream:
        """Checked by its bytes as a video's thumbnail is; stored under a new name before the
        stream points at it, the replaced one deleted after."""
        self.get(actor, live_stream_id)
        image = images.require_image(data, live_streams.THUMBNAIL_FORMATS, live_streams.THUMBNAIL_EXTENSIONS)
        key = live_streams.thumbnail_key(live_stream_id, image, ids.random_base62(12))
        thumbnail = LiveThumbnail(
            key=key, content_type=image.format.content_type, width=image.width, height=image.height
        )
        return stored_images.replace(
            self._files(),
            key,
            data,
            thumbnail.content_type,
            current_key=lambda: _key(self.get(actor, live_stream_id).thumbnail),
            point_at=lambda: self._change(
                actor,
                live_stream_id,
                "live-stream.thumbnail.upload",
                lambda s: live_streams.with_thumbnail(s, thumbnail, self.clock()),
            ),
        )

    def delete_thumbnail(self, actor: Actor, live_stream_id: str) -> None:
        """Idempotent: a stream without a thumbnail is left as it is."""
        before = self.get(actor, live_stream_id).thumbnail
        if before is None:
            return
        self._change(
            actor,
            live_stream_id,
            "live-stream.thumbnail.delete",
            lambda s: live_streams.with_thumbnail(s, None, self.clock()),
        )
        stored_images.forget(self._files(), before.key)

    def _files(self) -> MediaFiles:
        if self.files is None:
            raise RuntimeError("LiveStreamService needs the media files for thumbnails")
        return self.files()

    def _change(
        self,
        actor: Actor,
        live_stream_id: str,
        action: str,
        change: Callable[[LiveStream], LiveStream],
        replan: bool = False,
    ) -> LiveStream:
        """A change re-applied to the latest stream after a lost race; with `replan`, the restream
        relays follow the saved targets."""
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, live_stream_id)
            updated = change(current)
            planned = self.restreams.plan(updated) if replan and self.restreams is not None else None
            if planned is not None:
                updated = planned.stream
            try:
                self._save(actor, action, current, updated)
            except Conflict:
                continue
            if self.restreams is not None and planned is not None:
                self.restreams.carry_out(updated, planned.stop)
            return updated
        raise Conflict(name="liveStreamId")

    def reset_stream_key(self, actor: Actor, live_stream_id: str) -> LiveStream:
        """The old key stops working at once; the new one is returned. IVS allows one key per
        channel, so the adapter deletes every key first: a retry after a crash finds the channel in
        a state it can reset again."""
        current = self.get(actor, live_stream_id)
        assert current.channel is not None
        key = self.channels().reset_stream_key(current.channel.arn)
        updated = live_streams.with_stream_key(current, key, self.clock())
        try:
            self._save(actor, "live-stream.stream-key.reset", current, updated)
        except Conflict:
            # Another change landed meanwhile: keep it, with the key that now works.
            latest = self.get(actor, live_stream_id)
            self._save(
                actor, "live-stream.stream-key.reset", latest, live_streams.with_stream_key(latest, key, self.clock())
            )
            return self.get(actor, live_stream_id)
        return updated

    def complete(self, actor: Actor, live_stream_id: str) -> None:
        """api.video's `complete`: ends the broadcast. A running push is stopped (IVS StopStream) and
        its end is not a drop (no reconnect window); a broadcast waiting for its encoder ends now."""
        for _ in range(UPDATE_ATTEMPTS):
            current = self.get(actor, live_stream_id)
            outcome = broadcasts.complete(current, self.clock())
            # The broadcast's recordings may all be in already: it is announced with its end.
            settled = recordings.settle(outcome.stream)
            entry = audit.record(actor, "live-stream.complete", RESOURCE, live_stream_id, self.clock())
            ended: list[events.DomainEvent] = [
                events.LiveStreamBroadcastEnded(**self._envelope(actor), liveStreamId=live_stream_id)
                for flip in outcome.flips
                if flip == "ended"
            ]
            ended += [recordings.announcement(settled.stream, done, self._envelope(actor)) for done in settled.recorded]
            # A broadcast that ends here stops its relays (one still pushing stops with its push).
            planned = self.restreams.plan(settled.stream) if self.restreams is not None else None
            written = planned.stream if planned is not None else settled.stream
            try:
                self.repository.save(written, current.version, entry, ended)
                break
            except Conflict:
                continue
        else:
            raise Conflict(name="liveStreamId")
        if self.restreams is not None and planned is not None:
            self.restreams.carry_out(written, planned.stop)
        assert current.channel is not None
        channels = self.channels()
        if channels.is_live(current.channel.arn):
            channels.stop_stream(current.channel.arn)

    def delete(self, actor: Actor, live_stream_id: str) -> None:
        """The item goes with its audit entry and event; its removal releases the channel."""
        current = self.get(actor, live_stream_id)
        entry = audit.record(
            actor, "live-stream.delete", RESOURCE, live_stream_id, self.clock(), before=live_streams.snapshot(current)
        )
        deleted = events.LiveStreamDeleted(**self._envelope(actor), liveStreamId=live_stream_id)
        self.repository.delete(current, current.version, entry, [deleted])

    def release(self, stream: LiveStream) -> int:
        """Deletes the channel of a stream whose item left the table (deleted, or expired while
        provisioning). Idempotent: a channel already gone counts as released."""
        return self.channels().delete_channels(stream.channel_name)

    def _save(self, actor: Actor, action: str, current: LiveStream, updated: LiveStream) -> None:
        entry = audit.record(
            actor, action, RESOURCE, current.live_stream_id, self.clock(),
            before=live_streams.snapshot(current), after=live_streams.snapshot(updated),
        )  # fmt: skip
        changed = live_streams.changed_fields(current, updated)
        emitted = (
            [events.LiveStreamUpdated(**self._envelope(actor), liveStreamId=current.live_stream_id, changed=changed)]
            if changed
            else []
        )
        self.repository.save(updated, current.version, entry, emitted)

    def _envelope(self, actor: Actor) -> dict[str, str]:
        return events.envelope(actor.project_id, self.clock())


def _key(image: LiveThumbnail | None) -> str | None:
    return None if image is None else image.key
