/* The Videoplane embed page: plays a video's HLS with hls.js, themed by its player.
   Reads its configuration from the page (#vp-config, built by chalicelib/playback/domain/embed.py)
   and api.video's URL fragment options: #autoplay;loop;t=1:30,2:00;hide-title;hide-controls;show-subtitles;api */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("vp-config").textContent);
  var theme = config.theme;
  var root = document.getElementById("vp-player");
  var video = document.getElementById("vp-video");
  var options = fragmentOptions(window.location.hash);

  function fragmentOptions(hash) {
    var found = {};
    hash.replace(/^#/, "").split(";").forEach(function (part) {
      if (!part) return;
      var cut = part.indexOf("=");
      var name = cut < 0 ? part : part.slice(0, cut);
      found[decodeURIComponent(name)] = cut < 0 ? true : decodeURIComponent(part.slice(cut + 1));
    });
    return found;
  }

  function seconds(text) {
    if (!text) return null;
    var total = 0;
    text.split(":").forEach(function (unit) { total = total * 60 + Number(unit); });
    return isFinite(total) ? total : null;
  }

  function clock(value) {
    if (!isFinite(value)) value = 0;
    var s = Math.floor(value % 60), m = Math.floor(value / 60) % 60, h = Math.floor(value / 3600);
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Icons drawn in the control colour (currentColor): no icon font to load.
  var ICONS = {
    play: "M8 5v14l11-7z",
    pause: "M6 5h4v14H6zM14 5h4v14h-4z",
    fullscreen: "M4 4h6v2H6v4H4zM14 4h6v6h-2V6h-4zM4 14h2v4h4v2H4zM18 14h2v6h-6v-2h4z"
  };

  function icon(button, name) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "1.4em");
    svg.setAttribute("height", "1.4em");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    button.replaceChildren(svg);
  }

  // -- what the theme and the fragment ask for ----------------------------------------------------
  var autoplay = theme.forceAutoplay || options.autoplay === true;
  video.loop = theme.forceLoop || options.loop === true;
  if (!theme.enableControls || options["hide-controls"]) root.classList.add("vp-no-controls");
  if (theme.hideTitle || options["hide-title"]) root.classList.add("vp-no-title");
  if (config.poster) video.poster = config.poster;
  var range = typeof options.t === "string" ? options.t.split(",") : [];
  var startAt = seconds(range[0]), stopAt = seconds(range[1]);

  var title = element("div", { "class": "vp-title" }, config.title);
  root.appendChild(title);
  if (config.logo) {
    var logo = element("a", { "class": "vp-logo", target: "_blank", rel: "noopener noreferrer" });
    if (config.logo.link) logo.href = config.logo.link;
    logo.appendChild(element("img", { src: config.logo.src, alt: "" }));
    root.appendChild(logo);
  }

  // -- captions and chapters: <track>s read from the media CDN ----------------------------------
  config.captions.forEach(function (caption) {
    video.appendChild(element("track", { kind: "captions", src: caption.src, srclang: caption.srclang, label: caption.label }));
  });
  var chapterTrack = null;
  if (config.chapters.length) {
    chapterTrack = element("track", { kind: "chapters", src: config.chapters[0].src, srclang: config.chapters[0].language });
    video.appendChild(chapterTrack);
  }

  function captionTracks() {
    return Array.prototype.filter.call(video.textTracks, function (t) { return t.kind === "captions"; });
  }

  function showCaption(language) {
    captionTracks().forEach(function (t) { t.mode = t.language === language ? "showing" : "disabled"; });
    root.querySelectorAll(".vp-captions-menu button").forEach(function (b) {
      b.setAttribute("aria-checked", String(b.dataset.language === (language || "")));
    });
  }

  // -- controls -------------------------------------------------------------------------------
  var controls = element("div", { "class": "vp-controls" });
  var play = element("button", { "class": "vp-play", type: "button", "aria-label": "Play" });
  icon(play, "play");
  var progress = element("div", { "class": "vp-progress", role: "slider", "aria-label": "Seek" });
  var buffered = element("div", { "class": "vp-buffered" });
  var played = element("div", { "class": "vp-played" });
  var time = element("span", { "class": "vp-time" }, "0:00");
  progress.appendChild(buffered);
  progress.appendChild(played);
  controls.appendChild(play);
  controls.appendChild(progress);
  controls.appendChild(time);

  function menu(className, label, entries, onChoose) {
    var panel = element("div", { "class": "vp-menu " + className, role: "menu", hidden: "" });
    entries.forEach(function (entry) {
      var item = element("button", { type: "button", role: "menuitemradio", "aria-checked": "false" }, entry.label);
      item.dataset.language = entry.value;
      item.addEventListener("click", function () { onChoose(entry.value); panel.hidden = true; });
      panel.appendChild(item);
    });
    var toggle = element("button", { "class": className + "-button", type: "button", "aria-label": label }, label);
    toggle.addEventListener("click", function () {
      root.querySelectorAll(".vp-menu").forEach(function (m) { if (m !== panel) m.hidden = true; });
      panel.hidden = !panel.hidden;
    });
    controls.appendChild(toggle);
    root.appendChild(panel);
    return panel;
  }

  if (config.captions.length) {
    var entries = [{ label: "Off", value: "" }].concat(config.captions.map(function (c) { return { label: c.label, value: c.srclang }; }));
    menu("vp-captions-menu", "CC", entries, function (language) { showCaption(language); });
  }
  var chapterMenu = null;
  if (chapterTrack) {
    chapterMenu = menu("vp-chapters-menu", "Chapters", [], function () {});
    chapterTrack.track.mode = "hidden";  // loads the cues without drawing them
    chapterTrack.addEventListener("load", function () {
      Array.prototype.forEach.call(chapterTrack.track.cues || [], function (cue) {
        var item = element("button", { type: "button", role: "menuitem" }, clock(cue.startTime) + " " + cue.text);
        item.dataset.start = String(cue.startTime);
        item.addEventListener("click", function () { video.currentTime = cue.startTime; chapterMenu.hidden = true; });
        chapterMenu.appendChild(item);
      });
    });
  }
  var fullscreen = element("button", { "class": "vp-fullscreen", type: "button", "aria-label": "Full screen" });
  icon(fullscreen, "fullscreen");
  fullscreen.addEventListener("click", function () {
    if (document.fullscreenElement) document.exitFullscreen(); else if (root.requestFullscreen) root.requestFullscreen();
  });
  controls.appendChild(fullscreen);
  root.appendChild(controls);

  function toggle() { if (video.paused) video.play().catch(function () {}); else video.pause(); }
  play.addEventListener("click", toggle);
  video.addEventListener("click", toggle);
  video.addEventListener("play", function () { icon(play, "pause"); play.setAttribute("aria-label", "Pause"); });
  video.addEventListener("pause", function () { icon(play, "play"); play.setAttribute("aria-label", "Play"); });
  progress.addEventListener("click", function (event) {
    var box = progress.getBoundingClientRect();
    if (video.duration) video.currentTime = ((event.clientX - box.left) / box.width) * video.duration;
  });
  video.addEventListener("timeupdate", function () {
    var duration = video.duration || 0;
    played.style.width = duration ? (100 * video.currentTime / duration) + "%" : "0";
    time.textContent = clock(video.currentTime) + " / " + clock(duration);
    if (stopAt !== null && video.currentTime >= stopAt) { video.pause(); stopAt = null; }
  });
  video.addEventListener("progress", function () {
    var duration = video.duration || 0, ranges = video.buffered;
    if (duration && ranges.length) buffered.style.width = (100 * ranges.end(ranges.length - 1) / duration) + "%";
  });

  // -- the media -------------------------------------------------------------------------------
  if (!config.playable) {
    root.appendChild(element("div", { "class": "vp-message" }, "This video is being processed. Try again in a moment."));
    return;
  }
  function started() {
    if (startAt !== null) video.currentTime = startAt;
    if (options["show-subtitles"] && config.captions.length) {
      var preferred = config.captions.filter(function (c) { return c.default; })[0] || config.captions[0];
      showCaption(preferred.srclang);
    }
    if (autoplay) {
      video.muted = true;  // browsers allow autoplay only without sound
      video.play().catch(function () {});
    }
  }
  if (window.Hls && window.Hls.isSupported()) {
    // Captions come from the <track>s above; the manifest's own subtitle renditions would repeat them.
    var hls = new window.Hls({ enableWebVTT: false, enableIMSC1: false, enableCEA708Captions: false });
    hls.on(window.Hls.Events.MANIFEST_PARSED, started);
    hls.on(window.Hls.Events.ERROR, function (_, data) {
      if (data.fatal) root.appendChild(element("div", { "class": "vp-message" }, "This video cannot be played right now."));
    });
    hls.loadSource(config.hls);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = config.hls;
    video.addEventListener("loadedmetadata", started, { once: true });
  }

  // -- the player SDK's postMessage API (when the theme allows it) -----------------------------
  if (theme.enableApi) {
    var commands = {
      play: function () { video.play().catch(function () {}); },
      pause: function () { video.pause(); },
      mute: function () { video.muted = true; },
      unmute: function () { video.muted = false; },
      seek: function (value) { video.currentTime += Number(value) || 0; },
      setCurrentTime: function (value) { video.currentTime = Number(value) || 0; }
    };
    window.addEventListener("message", function (event) {
      var data = event.data || {};
      if (typeof data.message === "string" && commands.hasOwnProperty(data.message)) commands[data.message](data.value);
    });
    ["play", "pause", "ended", "timeupdate"].forEach(function (name) {
      video.addEventListener(name, function () {
        if (window.parent !== window) window.parent.postMessage({ type: name, currentTime: video.currentTime }, "*");
      });
    });
  }
})();
