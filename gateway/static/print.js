// The print button on the letter and the quarterly report (no inline scripts: see the CSP).
document.querySelectorAll(".print-button").forEach((button) => button.addEventListener("click", () => window.print()));
