// dlw ui: draws the training curves held in <script type="application/json" class="curves-data"> with uPlot.
// One chart per logged quantity (loss, rmse, ...), training and validation ("val_") together, one pair per run.
// A block with data-poll asks its URL for the curves again every data-poll-seconds and redraws them.
(function () {
  "use strict";
  var COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

  function quantities(runs) {
    var names = [];
    runs.forEach(function (run) {
      Object.keys(run.series || {}).forEach(function (name) {
        var base = name.indexOf("val_") === 0 ? name.slice(4) : name;
        if (names.indexOf(base) < 0) names.push(base);
      });
    });
    return names;
  }

  function chartData(runs, base) {
    var longest = 0;
    runs.forEach(function (run) { longest = Math.max(longest, (run.epochs || []).length); });
    var xs = [];
    for (var i = 1; i <= longest; i++) xs.push(i);
    var data = [xs], series = [{ label: "epoch" }];
    runs.forEach(function (run, index) {
      [["", "train"], ["val_", "validation"]].forEach(function (part) {
        var values = (run.series || {})[part[0] + base];
        if (!values) return;
        var padded = xs.map(function (_, k) { return k < values.length ? values[k] : null; });
        data.push(padded);
        series.push({
          label: (runs.length > 1 ? run.label + " · " : "") + part[1],
          stroke: COLOURS[index % COLOURS.length], width: 2,
          dash: part[0] ? [6, 4] : undefined, spanGaps: true,
        });
      });
    });
    return { data: data, series: series };
  }

  function draw(target, payload) {
    target.textContent = "";
    var runs = payload.runs || [];
    var width = Math.max(320, Math.min(640, target.clientWidth || 640));
    quantities(runs).forEach(function (base) {
      var box = document.createElement("div");
      box.className = "chart";
      var title = document.createElement("h3");
      title.textContent = base;
      box.appendChild(title);
      target.appendChild(box);
      var built = chartData(runs, base);
      new uPlot({ width: width, height: 280, series: built.series, scales: { x: { time: false } },
                  axes: [{ label: "epoch" }, {}] }, built.data, box);
    });
    if (!runs.some(function (run) { return (run.epochs || []).length; })) {
      var none = document.createElement("p");
      none.className = "muted";
      none.textContent = "No epoch finished yet.";
      target.appendChild(none);
    }
    target.setAttribute("data-drawn", String(target.querySelectorAll("canvas").length));
  }

  function poll(block, target, payload) {
    var seconds = Number(block.getAttribute("data-poll-seconds") || 3);
    setTimeout(function () {
      fetch(block.getAttribute("data-poll"), { credentials: "same-origin" })
        .then(function (answer) { return answer.json(); })
        .then(function (fresh) {
          if (!fresh.running) { window.location.reload(); return; }
          payload.runs[0].epochs = fresh.epochs;
          payload.runs[0].series = fresh.series;
          draw(target, payload);
          var epoch = document.getElementById("epoch");
          if (epoch && fresh.epochs.length) epoch.textContent = String(fresh.epochs.length);
          poll(block, target, payload);
        })
        .catch(function () { poll(block, target, payload); });
    }, seconds * 1000);
  }

  document.querySelectorAll("script.curves-data").forEach(function (block) {
    var target = document.getElementById(block.getAttribute("data-target"));
    if (!target) return;
    var payload = JSON.parse(block.textContent);
    draw(target, payload);
    if (block.getAttribute("data-poll")) poll(block, target, payload);
  });
})();
