// The forms of a test on the sample page (templates/_add_test_form.html, _result_form.html).
// Without JavaScript every input shows and the server reads what applies; with it, each form shows
// only the inputs that apply, and the inputs it hides are disabled, so they are not sent.
(function () {
  "use strict";

  function show(node, visible) {
    node.hidden = !visible;
    node.querySelectorAll("input, select, textarea").forEach(function (input) {
      input.disabled = !visible;
    });
  }

  // Plan a test: the method's determinations fill the determination's list; "other" asks for a reference.
  document.querySelectorAll("select[data-method-select]").forEach(function (select) {
    const list = document.getElementById(select.dataset.determinations);
    const reference = document.getElementById(select.dataset.methodRef);
    const all = list ? Array.from(list.options) : [];
    function update() {
      if (reference) show(reference, select.value === "other");
      if (!list) return;
      list.replaceChildren.apply(list, all.filter(function (option) {
        return !select.value || option.dataset.method === select.value;
      }));
    }
    select.addEventListener("change", update);
    update();
  });

  // Enter a result: the inputs of the chosen kind (a quantity's value and unit, or an outcome).
  document.querySelectorAll("select[data-kind-select]").forEach(function (select) {
    const form = select.closest("form");
    function update() {
      form.querySelectorAll("[data-kinds]").forEach(function (field) {
        show(field, field.dataset.kinds.split(" ").indexOf(select.value) >= 0);
      });
    }
    select.addEventListener("change", update);
    update();
  });

  // A measurand picked from the list offers its unit, unless one is already written.
  document.querySelectorAll("input[data-unit-for]").forEach(function (input) {
    input.addEventListener("change", function () {
      const unit = document.getElementById(input.dataset.unitFor);
      const option = input.list && Array.from(input.list.options).find(function (o) { return o.value === input.value; });
      if (unit && option && option.dataset.unit && !unit.value) unit.value = option.dataset.unit;
    });
  });
})();
