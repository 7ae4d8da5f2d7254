// Bar charts of the dashboard, from the same JSON as /dashboard.json, drawn with uPlot.
(function () {
  const d = JSON.parse(document.getElementById("dashboard-data").textContent);
  const colours = ["#0b4f8a", "#b3261e", "#1d6b35"];
  function bars(id, labels, series, axisSize) {
    const el = document.getElementById(id);
    if (!el || !labels.length) return;
    const n = series.length;
    const x = labels.map((_, i) => i);
    const opts = {
      width: el.clientWidth || 500,
      height: 260,
      legend: { show: n > 1 },
      scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? labels[t] || "" : "")), splits: () => x, rotate: 0, size: axisSize || 50 },
        {},
      ],
      series: [{}].concat(series.map((s, i) => ({
        label: s.label, fill: colours[i] + "cc", stroke: colours[i], points: { show: false },
        paths: uPlot.paths.bars({ size: [i === 0 ? 0.6 : 0.35, 80] }),
      }))),
    };
    const u = new uPlot(opts, [x].concat(series.map((s) => s.data)), el);
    window.addEventListener("resize", () => u.setSize({ width: el.clientWidth, height: 260 }));
  }
  bars("ch-cases", d.labs, [{ label: "cases held", data: d.cases_per_lab }, { label: "referred out", data: d.referred_out_per_lab }]);
  bars("ch-open", d.labs, [{ label: "open", data: d.open_per_lab }, { label: "overdue", data: d.overdue_per_lab }]);
  bars("ch-tat", d.turnaround_days.bins, [{ label: "samples", data: d.turnaround_days.counts }]);
  bars("ch-referrals", d.referrals.map((r) => r.from + "\n→ " + r.to), [{ label: "referrals", data: d.referrals.map((r) => r.count) }], 64);
  const dd = d.declared_vs_determined;
  const pct = (rows) => rows.map((r) => Math.round(r.rate * 1000) / 10);
  bars("ch-mismatch-chapter", dd.per_chapter.map((r) => r.key), [{ label: "% declared ≠ determined", data: pct(dd.per_chapter) }]);
  bars("ch-mismatch-origin", dd.per_origin.map((r) => r.key), [{ label: "% declared ≠ determined", data: pct(dd.per_origin) }]);
  document.body.dataset.chartsReady = "true";
})();
