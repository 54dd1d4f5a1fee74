/* The analytics pages' Plotly charts (Plotly is served by the app itself, no CDN).

   `window.LavkaCharts` is what every chart shares: the page's colours and language, the
   layout, and `draw(id, traces, layout, onClick, options)`, which draws into
   #chart-<id>, shows the chart's PNG button ([data-png=<id>], hidden until there is a
   drawing to save), makes a click on a point open the page its `onClick` returns (the
   list of clients or deals behind it), and closes the chart's table (data-fallback =
   the id of a <details> left open for when the drawing cannot be made).

   Below it, the charts of the cohort, economics and forecast pages, each drawn from
   the JSON the server put in the page (json_script); the dashboard's charts are in
   analytics_dashboard.js. Every chart's numbers are in a table in the page already. */
(function () {
  "use strict";

  function css(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name);
    return (value && value.trim()) || fallback;
  }

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function lang() {
    return document.documentElement.lang || "en";
  }

  function colours() {
    return {
      accent: css("--accent", "#4f46e5"),
      muted: css("--border-strong", "#c9c9cf"),
      text: css("--text", "#18181b"),
      good: css("--good", "#15803d"),
      warn: css("--warn", "#b45309"),
      risk: css("--risk", "#b91c1c"),
      grid: css("--border", "#e4e4e7"),
      subtle: css("--bg-muted", "#efeff1"),
      surface: css("--surface", "#fff"),
    };
  }

  function layout(extra) {
    var c = colours();
    var base = {
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: css("--font", "system-ui, sans-serif"), color: c.text, size: 12 },
      margin: { l: 64, r: 16, t: 8, b: 56 },
      xaxis: { gridcolor: c.grid, zerolinecolor: c.grid, automargin: true },
      yaxis: { gridcolor: c.grid, zerolinecolor: c.grid, automargin: true },
      separators: lang() === "ru" ? ", " : ".,",
      showlegend: false,
      hoverlabel: { namelength: -1 },
    };
    Object.keys(extra || {}).forEach(function (key) {
      if (typeof extra[key] === "object" && base[key] && !Array.isArray(extra[key])) {
        base[key] = Object.assign({}, base[key], extra[key]);
      } else {
        base[key] = extra[key];
      }
    });
    return base;
  }

  // The URL a clicked point carries in its customdata (a string), if any.
  function byCustom(point) {
    var custom = point.customdata;
    if (custom === undefined && point.data && point.data.customdata) {
      custom = point.data.customdata[point.pointIndex];
    }
    return typeof custom === "string" ? custom : "";
  }

  function draw(id, traces, extra, onClick, options) {
    var el = document.getElementById("chart-" + id);
    if (!el || !window.Plotly) return null;
    var filename = (options && options.filename) || id;
    el.classList.add("is-drawn"); // gives the box its height before Plotly measures it
    window.Plotly.newPlot(el, traces, layout(extra), {
      responsive: true,
      displaylogo: false,
      locale: lang(),
      modeBarButtonsToRemove: ["lasso2d", "select2d"],
      toImageButtonOptions: { format: "png", filename: filename, scale: 2 },
    });
    if (onClick) {
      el.on("plotly_click", function (event) {
        var point = event && event.points && event.points[0];
        var url = point && onClick(point);
        if (url) window.location.href = url;
      });
      el.classList.add("is-clickable");
    }
    var button = document.querySelector('[data-png="' + id + '"]');
    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.Plotly.downloadImage(el, {
          format: "png",
          filename: filename,
          width: el.clientWidth || 800,
          height: el.clientHeight || 400,
        });
      });
    }
    var fallback = el.getAttribute("data-fallback");
    var table = fallback && document.getElementById(fallback);
    if (table) table.open = false;
    return el;
  }

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  window.LavkaCharts = { css: css, colours: colours, layout: layout, draw: draw, byCustom: byCustom, data: data };

  // --- the cohort page's heatmap ----------------------------------------------------------

  function cohortHeatmap(d) {
    var c = colours();
    var box = document.getElementById("chart-cohorts");
    var width = (box && box.clientWidth) || 800;
    var narrow = width < 600; // a phone: fewer ticks, no axis titles (the card says it all)
    draw(
      "cohorts",
      [
        {
          type: "heatmap",
          x: d.offsets,
          y: d.months,
          z: d.z,
          text: d.text,
          customdata: d.drill,
          zmin: 0,
          zmax: d.top || null,
          xgap: 1,
          ygap: 1,
          colorscale: [[0, c.subtle], [1, c.accent]],
          hoverongaps: false,
          hovertemplate:
            d.labels.cohort + ": %{y}<br>" + d.labels.offset + ": %{x}<br>" + d.labels.value + ": %{text}<extra></extra>",
          colorbar: { title: { text: narrow ? "" : d.labels.value }, thickness: narrow ? 8 : 12 },
        },
      ],
      {
        xaxis: {
          title: { text: narrow ? "" : d.labels.offset },
          side: "top",
          dtick: narrow ? Math.max(1, Math.ceil(d.offsets.length / Math.floor(width / 40))) : 1,
        },
        yaxis: { title: { text: narrow ? "" : d.labels.cohort }, type: "category", autorange: "reversed" },
        margin: narrow ? { l: 56, r: 8, t: 32, b: 8 } : { l: 72, r: 16, t: 48, b: 16 },
      },
      byCustom,
      { filename: d.filename }
    );
  }

  // --- the economics page's payback curve -------------------------------------------------

  function paybackCurve(d) {
    var c = colours();
    var L = d.labels;
    var traces = [
      {
        type: "scatter",
        x: d.x,
        y: d.y,
        mode: "lines+markers",
        name: L.margin,
        line: { color: c.accent },
        hovertemplate: L.xaxis + " %{x}: %{y:,.0f} " + L.yaxis + "<extra></extra>",
      },
    ];
    if (d.cac !== null) {
      traces.push({
        type: "scatter",
        x: [d.x[0], d.x[d.x.length - 1]],
        y: [d.cac, d.cac],
        mode: "lines",
        name: L.cac,
        line: { color: c.warn, dash: "dash" },
        hoverinfo: "skip",
      });
    }
    draw(
      "payback",
      traces,
      {
        xaxis: { title: { text: L.xaxis }, dtick: 3 },
        yaxis: { title: { text: L.yaxis }, rangemode: "tozero", separatethousands: true },
        showlegend: true,
        legend: { orientation: "h", x: 0, y: 1.15 },
        margin: { l: 72, r: 16, t: 40, b: 48 },
      },
      null,
      { filename: "payback" }
    );
  }

  // --- the forecast page ------------------------------------------------------------------

  function forecastChart(d) {
    var c = colours();
    var f = d.forecast;
    var L = d.labels;
    function band(lo, hi, name, opacity) {
      return [
        { type: "scatter", x: f.x, y: hi, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
        {
          type: "scatter",
          x: f.x,
          y: lo,
          mode: "lines",
          line: { width: 0 },
          fill: "tonexty",
          fillcolor: "rgba(79, 70, 229, " + opacity + ")",
          name: name,
          hoverinfo: "skip",
        },
      ];
    }
    var traces = [].concat(band(f.lo95, f.hi95, L.band95, 0.12), band(f.lo80, f.hi80, L.band80, 0.25), [
      {
        type: "scatter",
        x: d.history.x,
        y: d.history.y,
        customdata: d.history.drill,
        mode: "lines+markers",
        name: L.history,
        line: { color: c.text },
        hovertemplate: "%{x|%B %Y}: %{y:,.0f}<extra>" + L.history + "</extra>",
      },
      {
        type: "scatter",
        x: f.x,
        y: f.y,
        customdata: f.drill,
        mode: "lines+markers",
        name: L.forecast,
        line: { color: c.accent, dash: "dot" },
        hovertemplate: "%{x|%B %Y}: %{y:,.0f}<extra>" + L.forecast + "</extra>",
      },
    ]);
    draw(
      "forecast",
      traces,
      {
        yaxis: { title: { text: L.yaxis }, rangemode: "tozero", separatethousands: true },
        xaxis: { type: "date" },
        showlegend: true,
        legend: { orientation: "h" },
        margin: { l: 72, r: 16, t: 16, b: 40 },
      },
      byCustom,
      { filename: "revenue-forecast" }
    );
  }

  ready(function () {
    if (!window.Plotly) return;
    var cohorts = data("cohorts-chart-data");
    if (cohorts) cohortHeatmap(cohorts);
    var payback = data("payback-data");
    if (payback) paybackCurve(payback);
    var forecast = data("forecast-data");
    if (forecast) forecastChart(forecast);
  });
})();
