// Draws every figure that scripts/mkdocs_hooks.py put into a page (plotly.min.js loads first).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("script.nasga-plotly-data").forEach(function (data) {
    var figure = JSON.parse(data.textContent);
    Plotly.newPlot(document.getElementById(data.dataset.target), figure.data, figure.layout,
                   {responsive: true, displaylogo: false});
  });
});
