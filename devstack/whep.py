"""A WHEP-style subscribe for the devstack's stage plane, on aiortc: how a participant watches the
stage's publishers here. IVS has no such endpoint (its Web Broadcast SDK subscribes with the
participant token); this is the devstack's stand-in, beside the WHIP ingest (`devstack.whip`).

A subscription is one peer connection that receives one publisher's tracks: the subscriber offers
`recvonly` transceivers, and each is given, kind by kind in order, a live copy of a publisher's
track from the ingest's relay (`WhipIngest.subscribe_tracks`, newest frame only: a slow subscriber
drops frames instead of falling behind). Peers run on the ingest's loop, where those tracks live.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devstack.whip import WhipIngest


class WhepEgress:
    def __init__(self, ingest: WhipIngest, on_gone: Callable[[str], None]) -> None:
        self.ingest = ingest
        # Called with a subscription id when its peer connection fails or closes.
        self.on_gone = on_gone
        self._peers: dict[str, Any] = {}
        self._tracks: dict[str, list[Any]] = {}

    def answer(self, subscription_id: str, offer: str, publishers: list[str]) -> str:
        """The SDP answer to a subscriber's offer, sending it the tracks of these publishers."""
        return self.ingest.run(self._answer(subscription_id, offer, publishers))

    def close(self, subscription_id: str) -> bool:
        """Ends a subscription; False when there was none."""
        if subscription_id not in self._peers:
            return False
        self.ingest.run(self._close(subscription_id))
        return True

    def stop(self) -> None:
        for subscription_id in list(self._peers):
            self.close(subscription_id)

    async def _answer(self, subscription_id: str, offer: str, publishers: list[str]) -> str:
        from aiortc import RTCPeerConnection, RTCSessionDescription

        peer = RTCPeerConnection()
        self._peers[subscription_id] = peer
        tracks = [t for p in publishers for t in self.ingest.subscribe_tracks(p, buffered=False)]
        self._tracks[subscription_id] = tracks

        @peer.on("connectionstatechange")
        async def _state() -> None:
            if peer.connectionState in ("failed", "closed") and self._peers.get(subscription_id) is peer:
                await self._close(subscription_id)
                self.on_gone(subscription_id)

        await peer.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        # addTrack takes the first offered transceiver of the track's kind that has nothing to send;
        # tracks beyond what the offer asked for are left out (and stopped).
        for track in tracks:
            if any(t.kind == track.kind and t.sender.track is None for t in peer.getTransceivers()):
                peer.addTrack(track)
            else:
                track.stop()
        await peer.setLocalDescription(await peer.createAnswer())
        return str(peer.localDescription.sdp)

    async def _close(self, subscription_id: str) -> None:
        peer = self._peers.pop(subscription_id, None)
        for track in self._tracks.pop(subscription_id, []):
            track.stop()  # unregisters the copy from the relay
        if peer is not None:
            await peer.close()
