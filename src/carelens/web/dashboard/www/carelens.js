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
