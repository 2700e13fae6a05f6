// The Access metrics page's charts: plotly draws what the page embeds as JSON
// (#access-metrics-data, the same numbers as GET /api/scheduling/metrics). No inline script.
(function () {
  "use strict";

  function draw(name, traces, layout) {
    var element = document.querySelector('[data-chart="' + name + '"]');
    if (!element || !traces.length) { return; }
    window.Plotly.newPlot(element, traces, Object.assign({
      margin: { t: 20, r: 20, b: 60, l: 60 },
      height: 320,
      legend: { orientation: "h" }
    }, layout), { displayModeBar: false, responsive: true });
  }

  function percent(value) { return value === null ? null : Math.round(value * 1000) / 10; }

  function render() {
    var source = document.getElementById("access-metrics-data");
    if (!source || !window.Plotly) { return; }
    var data = JSON.parse(source.textContent);
    var weeks = data.weeks.map(function (week) { return week.week_start; });

    var byType = {};
    data.third_next_available.forEach(function (row) {
      if (row.practitioner_id) { return; }
      (byType[row.visit_type_name] = byType[row.visit_type_name] || { x: [], y: [] });
      byType[row.visit_type_name].x.push(row.week_start);
      byType[row.visit_type_name].y.push(row.days);
    });
    draw("third-next-available", Object.keys(byType).sort().map(function (name) {
      return { type: "scatter", mode: "lines+markers", name: name, x: byType[name].x, y: byType[name].y };
    }), { yaxis: { title: { text: "days" }, rangemode: "tozero" } });

    draw("no-shows", [{
      type: "bar", name: "No-show rate (%)", x: weeks,
      y: data.weeks.map(function (week) { return percent(week.no_show_rate); })
    }], { yaxis: { title: { text: "%" }, rangemode: "tozero" } });

    draw("cancellations", [
      { type: "bar", name: "Late cancellations", x: weeks, y: data.weeks.map(function (week) { return week.late_cancellations; }) },
      { type: "bar", name: "Provider bumps", x: weeks, y: data.weeks.map(function (week) { return week.bumps; }) }
    ], { barmode: "group", yaxis: { title: { text: "appointments" }, rangemode: "tozero" } });

    draw("utilisation", [{
      type: "bar", name: "Utilisation (%)",
      x: data.utilisation.map(function (row) { return row.practitioner_name; }),
      y: data.utilisation.map(function (row) { return percent(row.utilisation); })
    }], { yaxis: { title: { text: "%" }, rangemode: "tozero" } });

    var fillWeeks = data.fill.weeks.map(function (week) { return week.week_start; });
    draw("fill", [
      { type: "bar", name: "Freed", x: fillWeeks, y: data.fill.weeks.map(function (week) { return week.freed; }) },
      { type: "bar", name: "Rebooked", x: fillWeeks, y: data.fill.weeks.map(function (week) { return week.rebooked; }) }
    ], { barmode: "group", yaxis: { title: { text: "slots" }, rangemode: "tozero" } });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
