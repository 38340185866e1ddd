// The field alarms' map: the last position, the accuracy, the trail and the address as a label.
// Labels are text nodes, never HTML: a visit's note is typed by a person. The overview
// (config.poll) follows the workers: markers are redrawn in place, the view kept; when alarms
// come or go the page is reloaded, so its list is current too.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("field-map-config").textContent);
  const t = config.t;
  const POLL_MS = 15000;
  const map = L.map("field-map", {zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false,
                                  attributionControl: Boolean(config.tiles)});
  if (config.tiles) {
    map.attributionControl.setPrefix(false);
    L.tileLayer(config.tiles, {attribution: config.attribution, maxZoom: 19}).addTo(map);
  }
  L.control.scale({imperial: false}).addTo(map);
  const layer = L.layerGroup().addTo(map);

  function label(m) {
    const span = document.createElement("span");
    span.className = "field-label-text";
    span.textContent = [m.person, m.address || t.map_unknown_address].filter(Boolean).join(": ");
    return span;
  }

  function draw(markers) {
    layer.clearLayers();
    const points = [];
    for (const m of markers) {
      const here = [m.lat, m.lon];
      if (m.trail.length > 1) {
        L.polyline(m.trail, {className: "field-trail", color: "#1f5fbf", weight: 4, opacity: 0.8,
                             dashArray: "8 6", interactive: false}).addTo(layer);
        points.push(...m.trail);
      }
      if (m.accuracy_m) {
        L.circle(here, {radius: m.accuracy_m, className: "field-accuracy", color: "#c0182a", weight: 1,
                        fillOpacity: 0.1, interactive: false}).addTo(layer);
      }
      const dot = L.circleMarker(here, {radius: 10, className: "field-marker", color: "#ffffff", weight: 3,
                                        fillColor: "#c0182a", fillOpacity: 1}).addTo(layer);
      dot.bindTooltip(label(m), {permanent: true, direction: "right", offset: [12, 0], className: "field-label"});
      if (config.link) dot.on("click", () => { window.location.href = m.href; });
      points.push(here);
    }
    return points;
  }

  const points = draw(config.markers);
  if (points.length === 1) map.setView(points[0], 16);
  else map.fitBounds(points, {padding: [60, 60], maxZoom: 17});

  if (config.poll) {
    const shown = config.markers.map((m) => m.uid).sort().join(" ");
    setInterval(async () => {
      try {
        const response = await fetch(config.poll, {credentials: "same-origin", cache: "no-store"});
        if (!response.ok) return;  // signed out or a hiccup: the next poll tries again
        const markers = await response.json();
        if (markers.map((m) => m.uid).sort().join(" ") !== shown) window.location.reload();
        else draw(markers);
      } catch (error) {
        // offline for a moment: keep what is shown
      }
    }, POLL_MS);
  }
})();
