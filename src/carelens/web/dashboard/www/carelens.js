/* carelens charts: draw plotly figures sent by the server into persistent chart divs.
 *
 * Why: re-creating every chart on each filter change (new div + Plotly.newPlot) was most of what a
 * member of staff waited for. A chart div now lives for the whole session and is updated with
 * Plotly.react; a chart that is off screen (further down the page, or on another tab) keeps the
 * latest figure and is drawn when it scrolls into view. On a chart whose slot names a click input
 * (data-click-input, the page's namespaced "chart_click"), clicks on any bar, point or square are
 * sent to the server as that input = {chart, x, y, curve, custom}.
 */
(function () {
  function draw(gd) {
    var p = gd._carelensPending;
    if (!p) return;
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
      if (gd.data) Plotly.purge(gd);
      gd._carelensClick = false;
      gd.style.height = "0px";
      return;
    }
    gd._carelensPending = payload;
    if (!gd._carelensObserved && observer) { observer.observe(gd); gd._carelensObserved = true; }
    if (!observer || visible(gd)) draw(gd);
  };
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
