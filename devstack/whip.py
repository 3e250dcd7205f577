"""WHIP publishing (RFC 9725) for the devstack's stage plane, on aiortc: the stand-in for IVS
real-time's `stage.endpoints.whip`.

`POST <whip>/<stageId>` with `Content-Type: application/sdp` and `Authorization: Bearer
<participant token>` answers 201 with the SDP answer and `Location: <whip>/<stageId>/<participantId>`
(the ICE candidates are in the answer: no trickle); `DELETE` on that location ends the publication.
Each peer connection runs on one asyncio loop in a thread of its own; received frames are counted
per participant and kind, which is what tests read. aiortc is a full peer, not an SFU: enough for
a handful of publishers, not a load test.

Only 127.0.0.1 may carry traffic here, and aioice leaves loopback out of its host candidates, so
the plane gathers on 127.0.0.1 alone (`loopback_only`): there is no STUN or TURN.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
ANSWER_TIMEOUT_SECONDS = 15


def loopback_only() -> None:
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []


class WhipIngest:
    def __init__(self, on_gone: Callable[[str], None]) -> None:
        # Called with a participant id when its peer connection fails or closes.
        self.on_gone = on_gone
        self.received: dict[str, Counter[str]] = {}
        self._peers: dict[str, Any] = {}
        # Each publisher's received tracks, relayed: several readers (the counter, a recorder, a
        # subscriber) each get their own copy of the frames.
        self._tracks: dict[str, list[Any]] = {}
        self._relay: Any = None
        # Frame counters run until their track ends; kept here so they are not collected early.
        self._counters: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Lock()

    def answer(self, participant_id: str, offer: str) -> str:
        """The SDP answer to a publisher's offer; its media is counted from then on."""
        return self._run(self._answer(participant_id, offer))

    def subscribe_tracks(self, participant_id: str) -> list[Any]:
        """A new reader of each track the participant publishes (aiortc MediaRelay proxies)."""
        return [self._relay.subscribe(track) for track in self._tracks.get(participant_id, [])]

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Runs a coroutine on the peers' loop (where the tracks live) and returns its result."""
        return self._run(coroutine)

    def close(self, participant_id: str) -> bool:
        """Ends a publication; False when there was none."""
        if participant_id not in self._peers:
            return False
        self._run(self._close(participant_id))
        return True

    def stop(self) -> None:
        if self._loop is None:
            return
        for participant_id in list(self._peers):
            self.close(participant_id)
        # A peer that failed (it vanished) leaves its track counters waiting: end them before the loop.
        self._run(self._end_counters())
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _answer(self, participant_id: str, offer: str) -> str:
        from aiortc import RTCPeerConnection, RTCSessionDescription
        from aiortc.contrib.media import MediaRelay

        peer = RTCPeerConnection()
        self._peers[participant_id] = peer
        counts = self.received.setdefault(participant_id, Counter())
        self._relay = self._relay or MediaRelay()
        self._tracks[participant_id] = []

        @peer.on("track")
        def _track(track: Any) -> None:
            self._tracks[participant_id].append(track)
            task = asyncio.ensure_future(self._count(self._relay.subscribe(track), counts))
            self._counters.add(task)
            task.add_done_callback(self._counters.discard)

        @peer.on("connectionstatechange")
        async def _state() -> None:
            if peer.connectionState in ("failed", "closed") and self._peers.get(participant_id) is peer:
                del self._peers[participant_id]
                self.on_gone(participant_id)

        await peer.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await peer.setLocalDescription(await peer.createAnswer())
        return str(peer.localDescription.sdp)

    @staticmethod
    async def _count(track: Any, counts: Counter[str]) -> None:
        from aiortc.mediastreams import MediaStreamError

        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                counts[track.kind] += 1

    async def _end_counters(self) -> None:
        for task in list(self._counters):
            task.cancel()
        await asyncio.gather(*self._counters, return_exceptions=True)

    async def _close(self, participant_id: str) -> None:
        peer = self._peers.pop(participant_id, None)
        if peer is not None:
            await peer.close()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._ensure_loop()).result(ANSWER_TIMEOUT_SECONDS)

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._started:
            if self._loop is None:
                loopback_only()
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="whip-peers", daemon=True).start()
            return self._loop
