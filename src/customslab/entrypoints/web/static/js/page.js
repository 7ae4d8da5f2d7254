// Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can forbid inline script.
// Listeners sit on the document, so content that htmx swaps in later behaves the same.
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form (language, HS decision rule).
  document.addEventListener("change", function (event) {
    const select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  // A refused htmx form (the server's `form-errors` event): every message next to the input it names,
  // the others atop the form. Nothing the user typed is lost, as the page is not swapped.
  function clearErrors(form) {
    form.querySelectorAll("[data-form-error]").forEach(function (node) { node.remove(); });
    form.querySelectorAll("[aria-invalid][data-marked]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("data-marked");
      input.removeAttribute("aria-describedby");
    });
  }

  function errorNode(tag, className, text) {
    const node = document.createElement(tag);
    node.className = className;
    node.setAttribute("role", "alert");
    node.dataset.formError = "";
    node.textContent = text;
    return node;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const form = event.target.closest("form");
    if (form) clearErrors(form);
  });

  document.addEventListener("form-errors", function (event) {
    const form = event.target.closest("form") || event.target.querySelector("form");
    if (!form) return;
    clearErrors(form);
    let first = null;
    let counter = 0;
    (event.detail.errors || []).forEach(function (error) {
      const input = error.field ? form.querySelector('[name="' + CSS.escape(error.field) + '"]') : null;
      if (input && input.type !== "hidden") {
        const node = errorNode("span", "field-error", error.message);
        node.id = (form.id || "form") + "-" + error.field + "-error-" + counter++;
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", node.id);
        input.dataset.marked = "";
        input.insertAdjacentElement("afterend", node);
        first = first || input;
      } else {
        form.insertAdjacentElement("afterbegin", errorNode("p", "form-error alert alert-error", error.message));
      }
    });
    const details = form.closest("details");
    if (details) details.open = true;
    if (first) first.focus();
  });

  document.addEventListener("click", function (event) {
    // <button data-print>: print the page (sample labels).
    if (event.target.closest("button[data-print]")) {
      window.print();
      return;
    }
    // <button data-fill="input id" data-value="...">: an HS suggestion fills the field, and the list closes.
    const suggestion = event.target.closest("button[data-fill]");
    if (suggestion) {
      const field = document.getElementById(suggestion.dataset.fill);
      if (field) {
        field.value = suggestion.dataset.value;
        field.focus();
      }
      suggestion.parentNode.replaceChildren();
    }
  });
})();
