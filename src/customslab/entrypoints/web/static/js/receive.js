// The receiving bench (/receive): a hand scanner acts as a keyboard, typing a label's code and Enter.
// Enter adds the code to the pending list (a hidden `codes` input each) instead of submitting; repeats
// are ignored with a note; "Receive all" posts the list. Without JavaScript the page offers a textarea.
(function () {
  "use strict";

  const form = document.querySelector("form[data-bulk-receive]");
  if (!form) return;
  const scan = document.getElementById("scan");
  const list = document.getElementById("pending");
  const note = document.getElementById("scan-note");
  const count = document.getElementById("pending-count");
  const text = form.dataset;

  form.querySelector("[data-scan-only]").hidden = false;
  scan.focus();

  function pending() {
    return Array.from(list.querySelectorAll('input[name="codes"]'), function (input) { return input.value; });
  }

  function update() {
    count.textContent = text.count.replace("{n}", String(pending().length));
  }

  function add(raw) {
    const code = raw.trim();
    if (!code) return;
    const codes = pending();
    if (codes.indexOf(code) !== -1) {
      note.textContent = text.duplicate.replace("{code}", code);
      return;
    }
    if (codes.length >= Number(text.max)) {
      note.textContent = text.full.replace("{n}", text.max);
      return;
    }
    const item = document.createElement("li");
    item.dataset.code = code;
    const label = document.createElement("span");
    label.className = "code";
    label.textContent = code;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "codes";
    hidden.value = code;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.dataset.remove = "";
    remove.textContent = text.remove;
    remove.setAttribute("aria-label", text.remove + " " + code);
    item.append(label, hidden, " ", remove);
    list.append(item);
    note.textContent = text.added.replace("{code}", code);
    update();
  }

  scan.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault(); // the scanner's Enter ends one code; it must not send the form
    add(scan.value);
    scan.value = "";
  });

  list.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-remove]");
    if (!button) return;
    button.closest("li").remove();
    note.textContent = "";
    update();
    scan.focus();
  });

  // A code typed but not yet confirmed with Enter still belongs to the delivery. This listener is added
  // before htmx's own (it starts on DOMContentLoaded), so the code is in the list when htmx reads the form.
  form.addEventListener("submit", function () {
    add(scan.value);
    scan.value = "";
  });

  // A refused delivery (the `form-errors` event page.js also shows): mark each code a message names.
  document.addEventListener("form-errors", function (event) {
    const messages = ((event.detail && event.detail.errors) || []).map(function (e) { return e.message; });
    list.querySelectorAll("li").forEach(function (item) {
      const bad = messages.some(function (m) { return m.indexOf(item.dataset.code + ":") === 0; });
      item.classList.toggle("bad", bad);
    });
  });
})();
