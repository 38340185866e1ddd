// The admin page of floor plans: a click tells its place in the plan's own coordinates
// (the SVG's viewBox, a PNG's pixels), ready to copy into the agreement file as `at: [x, y]`.
"use strict";
for (const svg of document.querySelectorAll("svg.pickable")) {
  const output = document.querySelector(`output.coordinates[data-plan="${CSS.escape(svg.dataset.plan)}"]`);
  const mark = svg.querySelector("circle.picked");
  svg.addEventListener("click", (event) => {
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(svg.getScreenCTM().inverse());
    const x = Math.round(point.x), y = Math.round(point.y);
    mark.setAttribute("cx", x); mark.setAttribute("cy", y);
    output.textContent = `at: [${x}, ${y}]`;
  });
}
