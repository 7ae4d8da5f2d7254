// Mirror plot of a query mass spectrum (up) against a library spectrum (down), drawn with uPlot.
(function () {
  const el = document.getElementById("mirror");
  const data = JSON.parse(document.getElementById("plot-data").textContent);
  const bars = uPlot.paths.bars({ size: [0.5, 3] });
  const opts = {
    width: el.clientWidth || 900,
    height: 340,
    scales: { x: { time: false }, y: { range: [-105, 105] } },
    axes: [{ label: "m/z" }, { label: "relative intensity", values: (u, v) => v.map((x) => Math.abs(x)) }],
    series: [
      {},
      { label: data.query_name, stroke: "#0b4f8a", fill: "#0b4f8a", paths: bars, points: { show: false } },
      { label: data.hit_name, stroke: "#b3261e", fill: "#b3261e", paths: bars, points: { show: false } },
    ],
  };
  const plot = new uPlot(opts, [data.x, data.query, data.hit], el);
  window.addEventListener("resize", () => plot.setSize({ width: el.clientWidth, height: 340 }));
  el.dataset.ready = "true";
})();
