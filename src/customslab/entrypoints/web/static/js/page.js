// Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can forbid inline script.
// Listeners sit on the document, so content that htmx swaps in later behaves the same.
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form (language, HS decision rule).
  document.addEventListener("change", function (event) {
    const select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
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
