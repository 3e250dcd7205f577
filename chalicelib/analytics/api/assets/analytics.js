/* Videoplane beacons: the embed page's playback session events, sent to ../beacons.
 * A session is one page load (a tab); events are batched and flushed every HEARTBEAT_MS while
 * playing, at once for impression, play, start, pause, end and error, and with sendBeacon when
 * the page is hidden. Each event carries the playhead and the seconds watched since the previous
 * event (playing or stalled, as Mux counts watch time), so the sum of a session's is its watch time.
 * The page's `metadata[key]=value` query parameters (api.video's player metadata) go with every
 * beacon as the session's metadata, listed by GET /analytics/videos/{videoId}. */
(function () {
  "use strict";
  var HEARTBEAT_MS = 5000;
  var MAX_BATCH = 50;
  var video = document.getElementById("vp-video");
  var configNode = document.getElementById("vp-config");
  if (!video || !configNode) return;
  var config = JSON.parse(configNode.textContent);
  var endpoint = new URL("../beacons", window.location.href).href;
  var session = newSessionId();
  // The video page names a video, the live page a live stream.
  var media = config.videoId || config.liveStreamId;
  var metadata = pageMetadata();
  var queue = [];
  var watchingSince = null; // ms when the current playing (or stalled) stretch began
  var playRequestedAt = null;
  var started = false;
  var buffering = false;
  var seekingFrom = null;
  var lastRendition = null;

  function newSessionId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    // Outside secure contexts: at least 16 characters, as the beacon endpoint requires.
    var random = Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
    return ("s" + Date.now().toString(36) + random + "0000000000000000").slice(0, 32);
  }

  // At most 10 pairs, keys of 1 to 64 characters, values cut to 256, no control characters: what
  // the beacon endpoint takes (a refused beacon would lose the session's events).
  function pageMetadata() {
    var found = {};
    var count = 0;
    new URLSearchParams(window.location.search).forEach(function (value, name) {
      var match = /^metadata\[([^\]]{1,64})\]$/.exec(name);
      if (!match || count >= 10 || /[\u0000-\u001f\u007f]/.test(match[1])) return;
      if (!Object.prototype.hasOwnProperty.call(found, match[1])) count++;
      found[match[1]] = value.replace(/[\u0000-\u001f\u007f]/g, "").slice(0, 256);
    });
    return count ? found : null;
  }

  function watchedSinceLast(now) {
    if (watchingSince === null) return 0;
    var seconds = Math.max(0, (now - watchingSince) / 1000);
    watchingSince = now;
    return Math.round(seconds * 1000) / 1000;
  }

  function record(type, extra, flushNow) {
    var now = Date.now();
    var event = { type: type, at: now, playhead: Math.max(0, video.currentTime || 0), watched: watchedSinceLast(now) };
    for (var key in extra) if (Object.prototype.hasOwnProperty.call(extra, key)) event[key] = extra[key];
    queue.push(event);
    if (flushNow || queue.length >= MAX_BATCH) flush(false);
  }

  function flush(leaving) {
    if (!queue.length) return;
    var body = JSON.stringify({
      session: session,
      media: media,
      player: config.playerId || null,
      referrer: (document.referrer || "").slice(0, 2048),
      sentAt: Date.now(),
      events: queue.splice(0, MAX_BATCH),
      metadata: metadata
    });
    // sendBeacon survives the page going away; it sends text/plain, so no CORS preflight.
    if (leaving && navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) return;
    fetch(endpoint, { method: "POST", body: body, keepalive: true, headers: { "Content-Type": "text/plain" } })
      .catch(function () { /* analytics never disturbs playback */ });
  }

  video.addEventListener("loadeddata", function () { record("impression", {}, true); }, { once: true });
  video.addEventListener("play", function () {
    if (!started) {
      playRequestedAt = Date.now();
      record("play", {}, true);
    } else if (video.ended || video.currentTime === 0) {
      record("play", {}, true);
    } else {
      record("resume", {}, true);
    }
  });
  video.addEventListener("playing", function () {
    var now = Date.now();
    if (buffering) {
      buffering = false;
      record("buffer_end", {});
    }
    if (!started && playRequestedAt !== null) {
      started = true;
      watchingSince = now;
      record("start", { startupMs: now - playRequestedAt }, true);
    } else if (watchingSince === null) {
      watchingSince = now;
    }
  });
  video.addEventListener("waiting", function () {
    if (started && !video.seeking && !buffering) {
      buffering = true;
      record("buffer_start", {});
    }
  });
  video.addEventListener("pause", function () {
    if (video.ended) return;
    record("pause", {}, true);
    watchingSince = null;
  });
  video.addEventListener("seeking", function () { if (seekingFrom === null) seekingFrom = video.currentTime; });
  video.addEventListener("seeked", function () {
    record("seek", { seekFrom: Math.max(0, seekingFrom || 0) });
    seekingFrom = null;
  });
  video.addEventListener("ended", function () {
    record("end", {}, true);
    watchingSince = null;
    started = false;
  });
  video.addEventListener("error", function () {
    var code = video.error ? video.error.code : 0;
    record("error", { error: "MediaError " + code }, true);
    watchingSince = null;
  });
  video.addEventListener("resize", function () {
    var rendition = video.videoHeight ? video.videoHeight + "p" : null;
    if (rendition && rendition !== lastRendition) {
      if (lastRendition !== null) record("rendition", { rendition: rendition });
      lastRendition = rendition;
    }
  });
  window.setInterval(function () {
    if (watchingSince !== null) record("heartbeat", {}, true);
  }, HEARTBEAT_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      if (watchingSince !== null) record("heartbeat", {});
      flush(true);
    }
  });
})();
