/* carelens charts: draw plotly figures sent by the server into persistent chart divs.
 *
 * Why: re-creating every chart on each filter change (new div + Plotly.newPlot) was most of what a
 * member of staff waited for. A chart div now lives for the whole session and is updated with
 * Plotly.react; a chart that is off screen (further down the page, or on another tab) keeps the
 * latest figure and is drawn when it scrolls into view. On a chart whose slot names a click input
 * (data-click-input, the page's namespaced "chart_click"), clicks on any bar, point or square are
 * sent to the server as that input = {chart, x, y, curve, custom}.
 *
 * No inline script anywhere (the Content Security Policy allows none but a few fixed ones of
 * Shiny's): a chart's figure arrives as a JSON data block, <script type="application/json"
 * data-carelens-plot="ID">, which this file finds as it reaches the page and draws; a comment's
 * flag buttons carry data attributes that one click listener here reads.
 */
(function () {
  /* plotly.js (1.5 MB, vendor/README.md) is fetched early (a preload link in the page's head) but run only once Shiny
   * has connected: running it takes the browser's only thread for most of a second, which before
   * held up Shiny's start and so the server's first answer; now the two overlap. A figure that
   * arrives before plotly.js has run waits here and is drawn once it has. */
  var waiting = [];
  var plotlyRequested = false;
  function loadPlotly() {
    if (plotlyRequested || window.Plotly) return;
    var link = document.querySelector("link[href*='vendor/plotly']");
    if (!link) return;
    plotlyRequested = true;
    var tag = document.createElement("script");
    tag.src = link.href;
    tag.async = true;
    tag.addEventListener("load", function () {
      var queued = waiting;
      waiting = [];
      queued.forEach(function (gd) { if (!observer || visible(gd)) draw(gd); });
    });
    document.head.appendChild(tag);
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (window.jQuery) jQuery(document).one("shiny:connected", loadPlotly);
  });
  window.addEventListener("load", function () { setTimeout(loadPlotly, 2000); });  /* no Shiny: still draw */

  function draw(gd) {
    var p = gd._carelensPending;
    if (!p) return;
    if (!window.Plotly) {
      if (waiting.indexOf(gd) < 0) waiting.push(gd);
      loadPlotly();
      return;
    }
    gd._carelensPending = null;
    gd.style.height = p[1].height + "px";
    Plotly.react(gd, p[0], p[1], p[2]).then(function () {
      /* the toolbar's buttons out of the tab order: keyboard users reach each chart's comments through
         the "Read comments" buttons of the tables beside it, not through a dozen zoom buttons per chart */
      gd.querySelectorAll(".modebar-btn").forEach(function (b) { b.setAttribute("tabindex", "-1"); });
      var slot = gd.closest("[data-chart]");
      if (gd._carelensClick || !slot || !slot.dataset.clickInput) return;
      gd._carelensClick = true;
      gd.on("plotly_click", function (ev) {
        var pt = ev.points[0];
        Shiny.setInputValue(slot.dataset.clickInput, {
          chart: slot.dataset.chart, x: String(pt.x), y: String(pt.y),
          curve: pt.data.name || "", custom: pt.customdata === undefined ? null : String(pt.customdata)
        }, {priority: "event"});
      });
    });
  }

  function visible(gd) {
    var r = gd.getBoundingClientRect();
    return r.width > 0 && r.bottom >= -300 && r.top <= window.innerHeight + 300;
  }

  var observer = ("IntersectionObserver" in window) ? new IntersectionObserver(function (entries) {
    entries.forEach(function (e) { if (e.isIntersecting) draw(e.target); });
  }, {rootMargin: "300px"}) : null;

  /* payload: [data, layout, config], or null to clear the chart (nothing to show under these filters) */
  window.carelensPlot = function (id, payload) {
    var gd = document.getElementById(id);
    if (!gd) return;
    if (payload === null) {
      gd._carelensPending = null;
      if (gd.data && window.Plotly) Plotly.purge(gd);
      gd._carelensClick = false;
      gd.style.height = "0px";
      return;
    }
    gd._carelensPending = payload;
    if (!gd._carelensObserved && observer) { observer.observe(gd); gd._carelensObserved = true; }
    if (!observer || visible(gd)) draw(gd);
  };

  function drawBlock(block) {
    if (block._carelensDone) return;
    block._carelensDone = true;
    var payload;
    try { payload = JSON.parse(block.textContent); } catch (e) { return; }
    window.carelensPlot(block.getAttribute("data-carelens-plot"), payload);
  }

  function drawBlocksIn(node) {
    if (!node || node.nodeType !== 1) return;
    if (node.matches("script[data-carelens-plot]")) drawBlock(node);
    node.querySelectorAll("script[data-carelens-plot]").forEach(drawBlock);
  }

  new MutationObserver(function (mutations) {
    mutations.forEach(function (m) { m.addedNodes.forEach(drawBlocksIn); });
  }).observe(document.documentElement, {childList: true, subtree: true});

  /* "Interesting" / "Wrong topics?" on a comment: {id, kind, dialog} to the page's flag input */
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-flag-kind]");
    if (!button || !window.Shiny) return;
    var request = {id: button.getAttribute("data-comment-key"), kind: button.getAttribute("data-flag-kind"),
                   n: Math.random()};
    if (request.kind === "wrong_topics") request.dialog = !!button.closest(".modal");
    Shiny.setInputValue(button.getAttribute("data-flag-input"), request, {priority: "event"});
  });

  /* A button that sends one event to the server: data-event-input names the (namespaced) input,
   * data-event-value holds its JSON value. No inline onclick: the Content Security Policy forbids it. */
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-event-input]");
    if (!button || !window.Shiny) return;
    var value = JSON.parse(button.getAttribute("data-event-value") || "null");
    Shiny.setInputValue(button.getAttribute("data-event-input"), value, {priority: "event"});
  });

  document.addEventListener("DOMContentLoaded", function () {
    drawBlocksIn(document.body);
    /* the server says the session ended or the user's role changed: go through sign-in again */
    if (window.Shiny) Shiny.addCustomMessageHandler("carelens-navigate", function (m) { window.location.assign(m.url); });
  });
})();

/* The call list (missed appointments): each row's Record button and every Undo button send one
 * event to the server, named by the nearest container's data-record-input / data-undo-input (so a
 * page that namespaces its ids says which), and Print prints the list alone (carelens.css hides
 * the rest of the page in print). Delegated from the document: the table is re-rendered often. */
(function () {
  document.addEventListener("click", function (ev) {
    var target = ev.target;
    if (!(target instanceof Element)) return;
    var record = target.closest(".dna-record");
    if (record) {
      var control = record.closest(".dna-record-control");
      var holder = record.closest("[data-record-input]");
      if (!control || !holder) return;
      Shiny.setInputValue(holder.dataset.recordInput, {
        appointment: control.dataset.appointment,
        outcome: control.querySelector(".dna-outcome").value,
        note: control.querySelector(".dna-note").value,
        nonce: Date.now() + Math.random()
      }, {priority: "event"});
      record.disabled = true;
      return;
    }
    var undo = target.closest(".dna-undo");
    if (undo) {
      var from = undo.closest("[data-undo-input]");
      if (!from) return;
      Shiny.setInputValue(from.dataset.undoInput, {call: undo.dataset.call, nonce: Date.now() + Math.random()},
                          {priority: "event"});
      undo.disabled = true;
      return;
    }
    if (target.closest(".dna-print")) window.print();
  });
})();

/* The address bar follows the view (page and filters) so it can be bookmarked (dashboard/bookmark.py). */
(function () {
  function register() {
    Shiny.addCustomMessageHandler("carelens-url", function (m) {
      var target = window.location.pathname + (m.query || "");
      if (target !== window.location.pathname + window.location.search) history.replaceState(null, "", target);
    });
  }
  if (window.Shiny && Shiny.addCustomMessageHandler) register();
  else document.addEventListener("DOMContentLoaded", register);
})();

/* "Close" on a dialog clicked while it is still opening (its 0.3 s fade): Bootstrap ignores a hide
 * during the opening transition, so the dialog stayed open and the click was lost (seen on a busy
 * machine, where the comments were in the dialog before it finished opening). The dialog now
 * closes as soon as it has opened; a click on an open dialog closes it as before. */
(function () {
  document.addEventListener("click", function (ev) {
    var button = ev.target instanceof Element ? ev.target.closest("[data-bs-dismiss='modal']") : null;
    var modal = button ? button.closest(".modal") : null;
    if (!modal || !window.bootstrap || !bootstrap.Modal) return;
    function closeNow() { bootstrap.Modal.getOrCreateInstance(modal).hide(); }
    modal.addEventListener("shown.bs.modal", closeNow, {once: true});
    modal.addEventListener("hidden.bs.modal", function () {
      modal.removeEventListener("shown.bs.modal", closeNow);
    }, {once: true});
  });
})();
