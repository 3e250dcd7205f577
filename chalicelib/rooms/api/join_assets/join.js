// The join page: exchanges the join token in the URL fragment (#token=...) at POST /join, publishes
// the camera and microphone over WHIP, and subscribes to each other publisher over the devstack's
// WHEP-style subscribe (one peer connection per publisher), refreshing the list every two seconds.
// Plain JS, no library: it works offline. On AWS there is no whepUrl (IVS's Web Broadcast SDK
// subscribes), so the page only publishes there. Every stats.intervalSeconds it posts what its peer
// connections measured (getStats(): RTCP receiver reports for what it sends, its inbound streams for
// what it receives) to POST /join/stats with the join's stats token: the call quality in the CDR.
"use strict";

(() => {
  const REFRESH_MS = 2000;
  const GATHER_MS = 3000;
  const status = document.getElementById("status");
  const remotes = document.getElementById("remotes");
  // What tests and the curious read: the admission, the publication, the subscriptions by publisher.
  const room = (window.room = { admission: null, publication: null, subscriptions: new Map(), errors: [] });

  function say(text) {
    status.textContent = text;
  }

  function fail(error) {
    room.errors.push(String(error));
    say("Error: " + error);
  }

  // No trickle ICE on either side: the offer goes out with its candidates.
  async function gathered(peer) {
    await peer.setLocalDescription(await peer.createOffer());
    if (peer.iceGatheringState !== "complete") {
      await new Promise((done) => {
        peer.addEventListener("icegatheringstatechange", () => peer.iceGatheringState === "complete" && done());
        setTimeout(done, GATHER_MS);
      });
    }
    return peer.localDescription.sdp;
  }

  // POSTs the offer (WHIP or WHEP), applies the answer; the resource's URL (for DELETE).
  async function negotiate(peer, url) {
    // Where its counters start (the call quality's first interval).
    peer.addEventListener("connectionstatechange", () => {
      if (peer.connectionState === "connected" && !peer.connectedAt) peer.connectedAt = Date.now();
    });
    const offer = await gathered(peer);
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", Authorization: "Bearer " + room.admission.media.participantToken },
      body: offer,
    });
    if (response.status !== 201) throw new Error(url + " answered " + response.status + ": " + (await response.text()));
    await peer.setRemoteDescription({ type: "answer", sdp: await response.text() });
    return new URL(response.headers.get("Location"), url).href;
  }

  function end(resource) {
    if (!resource) return;
    resource.peer.close();
    // keepalive: the request outlives the page when it is leaving.
    if (resource.location) fetch(resource.location, { method: "DELETE", keepalive: true }).catch(() => {});
  }

  async function publish(media) {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    document.getElementById("local").srcObject = stream;
    const peer = new RTCPeerConnection();
    for (const track of stream.getTracks()) {
      const transceiver = peer.addTransceiver(track, { direction: "sendonly" });
      // IVS takes H.264 (Baseline, no B-frames) over WHIP: prefer it where the browser has it.
      const codecs = (RTCRtpSender.getCapabilities(track.kind) || { codecs: [] }).codecs;
      const h264 = codecs.filter((c) => c.mimeType === "video/H264");
      if (track.kind === "video" && h264.length && transceiver.setCodecPreferences) {
        transceiver.setCodecPreferences([...h264, ...codecs.filter((c) => c.mimeType !== "video/H264")]);
      }
    }
    room.publication = { peer, location: await negotiate(peer, media.whipUrl) };
  }

  function tile(publisher) {
    const figure = document.createElement("figure");
    figure.dataset.participantId = publisher.participantId;
    const video = document.createElement("video");
    video.className = "remote";
    video.autoplay = true;
    video.playsInline = true;
    const caption = document.createElement("figcaption");
    caption.textContent = (publisher.attributes && publisher.attributes.name) || publisher.userId || publisher.participantId;
    figure.append(video, caption);
    remotes.append(figure);
    return { figure, video };
  }

  async function subscribe(media, publisher) {
    const peer = new RTCPeerConnection();
    peer.addTransceiver("video", { direction: "recvonly" });
    peer.addTransceiver("audio", { direction: "recvonly" });
    const shown = tile(publisher);
    const stream = new MediaStream();
    shown.video.srcObject = stream;
    peer.addEventListener("track", (event) => {
      stream.addTrack(event.track);
      // Autoplay with sound may need a gesture: play muted until the first click.
      shown.video.play().catch(() => {
        shown.video.muted = true;
        shown.video.play().catch(() => {});
        document.addEventListener("click", () => (shown.video.muted = false), { once: true });
      });
    });
    const subscription = { peer, location: null, figure: shown.figure, video: shown.video };
    room.subscriptions.set(publisher.participantId, subscription);
    const url = media.whepUrl + "?participantId=" + encodeURIComponent(publisher.participantId);
    try {
      subscription.location = await negotiate(peer, url);
      } catch (error) {
      // Gone meanwhile, or refused: the next refresh tries again if it is still there.
      room.subscriptions.delete(publisher.participantId);
      shown.figure.remove();
      peer.close();
      throw error;
    }
  }

  async function refresh(media) {
    const response = await fetch(media.whepUrl, { headers: { Authorization: "Bearer " + media.participantToken } });
    if (!response.ok) throw new Error("publishers: " + response.status);
    const publishers = (await response.json()).publishers.filter((p) => p.participantId !== room.admission.participantId);
    const present = new Set(publishers.map((p) => p.participantId));
    for (const [participantId, subscription] of room.subscriptions) {
      if (!present.has(participantId) && subscription.location) {
        room.subscriptions.delete(participantId);
        subscription.figure.remove();
        end(subscription);
      }
    }
    await Promise.all(
      publishers.filter((p) => !room.subscriptions.has(p.participantId)).map((p) => subscribe(media, p).catch(fail))
    );
    say("In the room as " + room.admission.name + " (" + room.admission.role + "); " + publishers.length + " other publisher(s).");
  }

  // Counters are cumulative: a figure is the change since the previous report of the same stat, or
  // since its peer connection connected (counters start at zero) the first time.
  const previous = new Map();
  function delta(stat, field, since) {
    const key = stat.id + "/" + field;
    const before = previous.get(key) || (since && { value: 0, at: since });
    previous.set(key, { value: stat[field] || 0, at: stat.timestamp });
    if (!before) return null;
    return { value: Math.max(0, (stat[field] || 0) - before.value), seconds: Math.max(0.001, (stat.timestamp - before.at) / 1000) };
  }

  function flow() {
    return { bits: 0, seconds: 0, packets: 0, lost: 0, seen: false };
  }

  function add(into, bytes, packets, lost) {
    if (!bytes) return;
    into.seen = true;
    into.bits += bytes.value * 8;
    into.seconds = Math.max(into.seconds, bytes.seconds);
    into.packets += packets ? packets.value : 0;
    into.lost += lost ? lost.value : 0;
  }

  function wire(f) {
    if (!f.seen) return undefined;
    return { bitrate: Math.round(f.bits / Math.max(f.seconds, 0.001)), packets: f.packets, packetsLost: f.lost };
  }

  // A direction: both kinds together, and each kind apart (EnableX reports by kind).
  function direction() {
    return { all: flow(), audio: flow(), video: flow() };
  }

  function addKind(into, kind, bytes, packets, lost) {
    add(into.all, bytes, packets, lost);
    if (into[kind]) add(into[kind], bytes, packets, lost);
  }

  function wireDirection(into) {
    const all = wire(into.all);
    return all && { ...all, audio: wire(into.audio), video: wire(into.video) };
  }

  async function sampleStats() {
    const send = direction(), receive = direction(), rtts = [], jitters = [];
    const resources = [room.publication, ...room.subscriptions.values()].filter((r) => r && r.peer);
    for (const resource of resources) {
      const since = resource.peer.connectedAt;
      const d = (stat, field) => delta(stat, field, since);
      (await resource.peer.getStats()).forEach((stat) => {
        if (stat.type === "outbound-rtp") addKind(send, stat.kind, d(stat, "bytesSent"), d(stat, "packetsSent"), null);
        if (stat.type === "remote-inbound-rtp") {
          const lost = d(stat, "packetsLost");
          if (lost) {
            send.all.lost += lost.value;
            if (send[stat.kind]) send[stat.kind].lost += lost.value;
          }
          if (typeof stat.roundTripTime === "number") rtts.push(stat.roundTripTime);
          if (typeof stat.jitter === "number") jitters.push(stat.jitter);
        }
        if (stat.type === "inbound-rtp") {
          addKind(receive, stat.kind, d(stat, "bytesReceived"), d(stat, "packetsReceived"), d(stat, "packetsLost"));
          if (typeof stat.jitter === "number") jitters.push(stat.jitter);
        }
        if (stat.type === "candidate-pair" && stat.nominated && typeof stat.currentRoundTripTime === "number" && !rtts.length)
          rtts.push(stat.currentRoundTripTime);
      });
    }
    const mean = (values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined);
    return { send: wireDirection(send), receive: wireDirection(receive), roundTripTime: mean(rtts), jitter: mean(jitters) };
  }

  async function reportStats(stats) {
    const sample = await sampleStats();
    if (!sample.send && !sample.receive && sample.roundTripTime === undefined) return;
    const response = await fetch(location.pathname.replace(/\/$/, "") + "/stats", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: stats.token, ...sample }),
    });
    room.statsPosted = (room.statsPosted || 0) + (response.status === 204 ? 1 : 0);
  }

  function reportEvery(stats) {
    setInterval(() => reportStats(stats).catch(() => {}), stats.intervalSeconds * 1000);
  }

  function poll(media) {
    refresh(media)
      .catch(fail)
      .finally(() => setTimeout(() => poll(media), REFRESH_MS));
  }

  async function join() {
    const token = new URLSearchParams(location.hash.slice(1)).get("token");
    if (!token) return say("No join token: open this page as …/join#token=<join token>.");
    // This page's own path is the join endpoint (POST), behind an API stage or not.
    const response = await fetch(location.pathname, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token }),
    });
    const body = await response.json();
    if (!response.ok) return say("Not admitted: " + (body.title || response.status) + (body.detail ? " (" + body.detail + ")" : ""));
    room.admission = body;
    // Leaving: end the publication and every subscription (the plane also notices a vanished peer).
    window.addEventListener("pagehide", () => {
      end(room.publication);
      for (const subscription of room.subscriptions.values()) end(subscription);
    });
    say("Joined as " + body.name + " (" + body.role + ").");
    if (body.capabilities.includes("publish")) await publish(body.media);
    if (body.stats) reportEvery(body.stats);
    if (body.capabilities.includes("subscribe") && body.media.whepUrl) poll(body.media);
    else if (!body.media.whepUrl) say("Publishing. Watching others needs the IVS Web Broadcast SDK here.");
  }

  join().catch(fail);
})();
