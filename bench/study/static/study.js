// The rater's page: fetches this link's slots, shows one at a time, posts each answer and moves
// on only once the server has stored it. Everything from the server is set as text or as a
// same-origin image URL, never as HTML.
"use strict";
(function () {
  const token = decodeURIComponent(location.pathname.split("/")[2] || "");
  const api = "/api/" + encodeURIComponent(token);
  const $ = (id) => document.getElementById(id);
  const panes = ["reference", "left", "right"].map((side) => $("pane-" + side));
  const images = panes.map((pane) => pane.querySelector("img"));
  const views = panes.map((pane) => pane.querySelector(".view"));
  let slots = [], answered = new Set(), current = -1, shownAt = 0, busy = false, flipped = false;
  let zoom = { scale: 1, x: 0, y: 0 };

  function status(text, error) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  function viewSize(slot) {
    const flicker = document.body.classList.contains("flicker");
    const width = Math.max(120, Math.floor((window.innerWidth - 64) / (flicker ? 2 : 3)));
    return [Math.min(slot.width, width), Math.min(slot.height, Math.max(160, window.innerHeight - 260))];
  }

  function layout() {
    if (current < 0 || current >= slots.length) return;
    const [width, height] = viewSize(slots[current]);
    views.forEach((view) => { view.style.width = width + "px"; view.style.height = height + "px"; });
    applyZoom();
  }

  function applyZoom() {
    const transform = "translate(" + zoom.x + "px," + zoom.y + "px) scale(" + zoom.scale + ")";
    images.forEach((image) => { image.style.transform = transform; });
    $("zoom-text").textContent = Math.round(zoom.scale * 100) + " %";
  }

  function zoomAt(factor, cx, cy) {
    const scale = Math.min(16, Math.max(0.25, zoom.scale * factor));
    // Keep the image point under (cx, cy) where it is.
    zoom.x = cx - (cx - zoom.x) * scale / zoom.scale;
    zoom.y = cy - (cy - zoom.y) * scale / zoom.scale;
    zoom.scale = scale;
    applyZoom();
  }

  function setMode(flicker) {
    document.body.classList.toggle("flicker", flicker);
    $("mode-side").classList.toggle("active", !flicker);
    $("mode-flicker").classList.toggle("active", flicker);
    flipped = false;
    showSides();
    layout();
  }

  function showSides() {
    const slot = slots[current];
    if (!slot) return;
    const flicker = document.body.classList.contains("flicker");
    images[1].src = flicker && flipped ? slot.right : slot.left;
    panes[1].querySelector("figcaption").textContent = flicker ? (flipped ? "B" : "A") : "A";
    $("flip").textContent = flipped ? "Show A" : "Show B";
  }

  function show(index) {
    current = index;
    const done = slots.length - slots.filter((slot) => !answered.has(slot.id)).length;
    $("progress-bar").style.width = (100 * done / slots.length) + "%";
    $("progress-text").textContent = Math.min(done + 1, slots.length) + " / " + slots.length;
    if (index >= slots.length) {
      $("panes").hidden = $("answer").hidden = $("tools").hidden = true;
      $("done").hidden = false;
      $("progress-text").textContent = slots.length + " / " + slots.length;
      document.body.dataset.state = "done";
      return;
    }
    const slot = slots[index];
    flipped = false;
    zoom = { scale: 1, x: 0, y: 0 };
    let loading = 3;
    const loaded = () => { if (--loading === 0) { shownAt = performance.now(); document.body.dataset.state = "ready"; } };
    document.body.dataset.state = "loading";
    images.forEach((image) => { image.onload = loaded; image.onerror = () => status("An image did not load; reload the page.", true); });
    images[0].src = slot.reference;
    images[2].src = slot.right;
    showSides();
    $("image-name").textContent = slot.image;
    document.body.dataset.slot = slot.id;
    layout();
  }

  function next() {
    let index = current + 1;
    while (index < slots.length && answered.has(slots[index].id)) index++;
    show(index);
  }

  async function choose(choice) {
    if (busy || current < 0 || current >= slots.length || document.body.dataset.state !== "ready") return;
    busy = true;
    const slot = slots[current];
    const body = JSON.stringify({ slot: slot.id, choice: choice, response_ms: Math.round(performance.now() - shownAt) });
    try {
      const response = await fetch(api + "/answer", { method: "POST", headers: { "Content-Type": "application/json" }, body: body });
      const reply = await response.json();
      if (!response.ok || !reply.stored) throw new Error(reply.error || response.statusText);
      answered.add(slot.id);
      status("");
      next();
    } catch (error) {
      status("Your answer was not saved (" + error.message + "); try again.", true);
    } finally {
      busy = false;
    }
  }

  async function start() {
    try {
      const response = await fetch(api + "/session");
      if (!response.ok) throw new Error(response.status === 404 ? "this link is not valid" : response.statusText);
      const session = await response.json();
      slots = session.slots;
      answered = new Set(session.answered);
      $("question").textContent = session.question;
      current = -1;
      next();
    } catch (error) {
      status("The study could not be loaded: " + error.message + ".", true);
    }
  }

  let drag = null;
  views.forEach((view) => {
    view.addEventListener("wheel", (event) => {
      event.preventDefault();
      const box = view.getBoundingClientRect();
      zoomAt(event.deltaY < 0 ? 1.25 : 0.8, event.clientX - box.left, event.clientY - box.top);
    }, { passive: false });
    view.addEventListener("pointerdown", (event) => {
      drag = { x: event.clientX - zoom.x, y: event.clientY - zoom.y };
      view.setPointerCapture(event.pointerId);
    });
    view.addEventListener("pointermove", (event) => {
      if (!drag) return;
      zoom.x = event.clientX - drag.x;
      zoom.y = event.clientY - drag.y;
      applyZoom();
    });
    view.addEventListener("pointerup", () => { drag = null; });
  });

  const centre = () => { const box = views[0].getBoundingClientRect(); return [box.width / 2, box.height / 2]; };
  const flip = () => { if (document.body.classList.contains("flicker")) { flipped = !flipped; showSides(); } };
  $("choose-left").addEventListener("click", () => choose("left"));
  $("choose-right").addEventListener("click", () => choose("right"));
  $("mode-side").addEventListener("click", () => setMode(false));
  $("mode-flicker").addEventListener("click", () => setMode(true));
  $("flip").addEventListener("click", flip);
  $("zoom-in").addEventListener("click", () => zoomAt(1.25, ...centre()));
  $("zoom-out").addEventListener("click", () => zoomAt(0.8, ...centre()));
  $("zoom-reset").addEventListener("click", () => { zoom = { scale: 1, x: 0, y: 0 }; applyZoom(); });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const keys = {
      "1": () => choose("left"), "ArrowLeft": () => choose("left"),
      "2": () => choose("right"), "ArrowRight": () => choose("right"),
      "f": () => setMode(true), "F": () => setMode(true), "s": () => setMode(false), "S": () => setMode(false),
      " ": flip, "+": () => zoomAt(1.25, ...centre()), "=": () => zoomAt(1.25, ...centre()),
      "-": () => zoomAt(0.8, ...centre()), "0": () => { zoom = { scale: 1, x: 0, y: 0 }; applyZoom(); },
    };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });
  window.addEventListener("resize", layout);
  start();
})();
