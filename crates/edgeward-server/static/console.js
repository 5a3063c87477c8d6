// Edgeward console: the little behaviour pages need beyond HTML. Loaded as a file (the
// Content-Security-Policy allows no inline script); every page works without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: <button data-copy="ELEMENT-ID"> copies that element's text.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch {
        button.textContent = "Select and copy the text";
      }
    });
  }
  // Typed confirmation: a form with data-confirm="NAME" submits only when its
  // input[name=confirm] holds NAME (the server checks it too).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    const input = form.querySelector("input[name=confirm]");
    const submit = form.querySelector("button[type=submit]");
    if (!input || !submit) continue;
    const update = () => { submit.disabled = input.value !== form.dataset.confirm; };
    input.addEventListener("input", update);
    update();
  }
});
