// Progressive "select all" for the review inbox: without it every item keeps its own checkbox.
(() => {
  "use strict";
  const form = document.getElementById("decide");
  if (!form) {
    return;
  }
  const counter = document.getElementById("checked-count");
  const pickers = Array.from(form.querySelectorAll("input[data-select]"));
  const boxesOf = (picker) => {
    const scope = picker.dataset.select === "all" ? form : document.getElementById(picker.dataset.select);
    return scope ? Array.from(scope.querySelectorAll("input[name=item]")) : [];
  };
  const update = () => {
    const checked = form.querySelectorAll("input[name=item]:checked").length;
    if (counter) {
      counter.textContent = checked === 1 ? "1 item checked" : `${checked} items checked`;
    }
    for (const picker of pickers) {
      const boxes = boxesOf(picker);
      const on = boxes.filter((box) => box.checked).length;
      picker.checked = boxes.length > 0 && on === boxes.length;
      picker.indeterminate = on > 0 && on < boxes.length;
    }
  };
  for (const picker of pickers) {
    picker.closest(".select-all").hidden = false;
    picker.addEventListener("change", () => {
      for (const box of boxesOf(picker)) {
        box.checked = picker.checked;
      }
      update();
    });
  }
  form.addEventListener("change", update);
  update();
})();
