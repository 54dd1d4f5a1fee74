/* The KPI dashboard's charts: Plotly (served by the app itself, no CDN) drawing the data
   the server put in #dashboard-data, with labels in the page's language, through
   window.LavkaCharts (analytics_charts.js: PNG export, the click that opens the clients
   or deals behind a bar, cell or flow). Every chart has its numbers as a table in the
   page already. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var node = document.getElementById("dashboard-data");
    var charts = window.LavkaCharts;
    if (!node || !window.Plotly || !charts) return;
    var data = JSON.parse(node.textContent);
    var L = data.labels;
    var c = charts.colours();
    var accent = c.accent;
    var muted = c.muted;
    var good = c.good;
    var warn = c.warn;
    var risk = c.risk;
    var lang = document.documentElement.lang || "en";
    var number = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    var byCustom = charts.byCustom;

    function draw(id, traces, extra, onClick) {
      return charts.draw(id, traces, extra, onClick, { filename: "kpi-" + id });
    }

    // Revenue trend, the plan as a dashed line.
    var trend = data.trend || [];
    if (trend.length) {
      var traces = [
        {
          type: "bar",
          name: L.revenue,
          x: trend.map(function (t) { return t.label; }),
          y: trend.map(function (t) { return t.revenue; }),
          customdata: trend.map(function (t) { return t.drill; }),
          marker: { color: trend.map(function (t) { return t.in_period ? accent : muted; }) },
          hovertemplate: "%{x}<br>" + L.revenue + ": %{y:,.0f} " + data.currency + "<extra></extra>",
        },
      ];
      if (trend.some(function (t) { return t.plan !== null; })) {
        traces.push({
          type: "scatter",
          mode: "lines+markers",
          name: L.plan,
          x: trend.map(function (t) { return t.label; }),
          y: trend.map(function (t) { return t.plan; }),
          line: { dash: "dash", color: warn },
          hovertemplate: "%{x}<br>" + L.plan + ": %{y:,.0f} " + data.currency + "<extra></extra>",
        });
      }
      draw(
        "trend",
        traces,
        {
          xaxis: { title: { text: L.month } },
          yaxis: { title: { text: L.revenue + ", " + data.currency } },
          showlegend: traces.length > 1,
          legend: { orientation: "h", y: 1.1 },
        },
        byCustom
      );
    }

    // ABC-XYZ matrix as a heatmap of clients; a cell opens its clients.
    var matrix = data.matrix || [];
    if (matrix.length) {
      draw(
        "matrix",
        [
          {
            type: "heatmap",
            x: ["X", "Y", "Z"],
            y: ["A", "B", "C"],
            z: matrix.map(function (row) { return row.map(function (c) { return c.clients; }); }),
            customdata: matrix.map(function (row) { return row.map(function (c) { return c.drill; }); }),
            text: matrix.map(function (row) { return row.map(function (c) { return c.label + ": " + number.format(c.clients); }); }),
            texttemplate: "%{text}",
            hovertemplate: "%{y}%{x}: %{z:,} " + L.clients + "<extra></extra>",
            colorscale: [[0, c.subtle], [1, accent]],
            showscale: false,
          },
        ],
        { yaxis: { autorange: "reversed" }, margin: { l: 32, r: 8, t: 8, b: 32 } },
        byCustom
      );
    }

    // Deal funnel.
    var funnel = data.funnel || [];
    if (funnel.length) {
      draw(
        "funnel",
        [
          {
            type: "funnel",
            y: funnel.map(function (s) { return s.name; }),
            x: funnel.map(function (s) { return s.reached; }),
            customdata: funnel.map(function (s) { return s.drill; }),
            marker: { color: accent },
            hovertemplate: "%{y}: %{x} " + L.deals + "<extra></extra>",
          },
        ],
        { margin: { l: 120, r: 16, t: 8, b: 32 } },
        byCustom
      );
    }

    // Lifecycle stages.
    var stages = data.stages || [];
    var tone = { 0: accent, 1: good, 2: good, 3: warn, 4: risk, 5: risk };
    if (stages.length) {
      draw(
        "stages",
        [
          {
            type: "bar",
            x: stages.map(function (s) { return s.label; }),
            y: stages.map(function (s) { return s.clients; }),
            customdata: stages.map(function (s) { return s.drill; }),
            marker: { color: stages.map(function (s, i) { return tone[i] || accent; }) },
            hovertemplate: "%{x}: %{y:,} " + L.clients + "<extra></extra>",
          },
        ],
        { yaxis: { title: { text: L.clients } } },
        byCustom
      );
    }

    // CLV distribution: bars on a numeric axis (bin middles, bin widths).
    var clv = data.clv || [];
    if (clv.length) {
      draw(
        "clv",
        [
          {
            type: "bar",
            x: clv.map(function (b) { return b.middle; }),
            width: clv.map(function (b) { return b.width; }),
            y: clv.map(function (b) { return b.clients; }),
            text: clv.map(function (b) { return b.label; }),
            textposition: "none",
            customdata: clv.map(function (b) { return b.drill; }),
            marker: { color: accent, line: { color: c.surface, width: 1 } },
            hovertemplate: L.clv + " %{text} " + data.currency + ": %{y:,} " + L.clients + "<extra></extra>",
          },
        ],
        {
          xaxis: { title: { text: L.clv + ", " + data.currency }, rangemode: "tozero" },
          yaxis: { title: { text: L.clients } },
          bargap: 0,
        },
        byCustom
      );
    }

    // Cohort retention heatmap.
    var cohorts = data.cohorts || [];
    if (cohorts.length) {
      var width = Math.max.apply(null, cohorts.map(function (r) { return r.retention.length; }));
      // Month 0 is 100 % by definition: the colours are scaled to the later months.
      var later = [].concat.apply([], cohorts.map(function (r) { return r.retention.slice(1); }));
      var top = Math.max.apply(null, [0].concat(later.filter(function (v) { return v !== null; })));
      var columns = [];
      for (var k = 0; k < width; k++) columns.push(k);
      draw(
        "cohorts",
        [
          {
            type: "heatmap",
            x: columns,
            y: cohorts.map(function (r) { return r.month; }),
            z: cohorts.map(function (r) {
              var row = r.retention.slice();
              while (row.length < width) row.push(null);
              return row;
            }),
            customdata: cohorts.map(function (r) {
              return columns.map(function (k) { return (r.cells[k] && r.cells[k].url) || ""; });
            }),
            colorscale: [[0, c.subtle], [1, accent]],
            zmin: 0,
            zmax: top || 100,
            hovertemplate: L.cohort + ": %{y}<br>" + L.months_after + ": %{x}<br>" + L.retention + ": %{z:.1f}<extra></extra>",
            colorbar: { title: { text: L.retention } },
          },
        ],
        {
          yaxis: { autorange: "reversed", type: "category", title: { text: L.cohort } },
          xaxis: { title: { text: L.months_after }, dtick: 1 },
        },
        byCustom
      );
    }

    // Movement between segments: a Sankey from "before" to "now".
    var moves = data.moves || [];
    if (moves.length) {
      var nodes = [];
      var index = {};
      function node(label) {
        if (!(label in index)) {
          index[label] = nodes.length;
          nodes.push(label);
        }
        return index[label];
      }
      var source = [];
      var target = [];
      var value = [];
      var links = [];
      var nodeLinks = [];
      moves.forEach(function (f) {
        var from = node(f.before + " (" + L.before + ")");
        var to = node(f.now + " (" + L.now + ")");
        source.push(from);
        target.push(to);
        value.push(f.clients);
        links.push(f.drill);
        nodeLinks[from] = f.left_drill; // everyone who left the segment
        nodeLinks[to] = f.came_drill; // everyone who came into it
      });
      draw(
        "moves",
        [
          {
            type: "sankey",
            arrangement: "snap",
            node: { label: nodes, customdata: nodeLinks, pad: 12, thickness: 14, color: accent },
            link: { source: source, target: target, value: value, customdata: links, color: "rgba(79,70,229,0.25)" },
          },
        ],
        { margin: { l: 8, r: 8, t: 8, b: 8 } },
        function (point) { return point.customdata; }
      );
    }
  });
})();
