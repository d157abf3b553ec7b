// Compose page: merge-field buttons insert "{{ field }}" at the cursor of the
// subject or body field that had focus last; only the chosen list's fields show.
(function () {
  var target = null;
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-merge-target]")) target = event.target;
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert]");
    if (!button) return;
    var field = target || document.querySelector("textarea[data-merge-target]");
    if (!field) return;
    var text = button.getAttribute("data-insert");
    var start = field.selectionStart || 0, end = field.selectionEnd || 0;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.focus();
    field.selectionStart = field.selectionEnd = start + text.length;
  });
  function showFields() {
    var select = document.getElementById("id_recipient_list");
    if (!select) return;
    document.querySelectorAll("[data-fields-for]").forEach(function (group) {
      group.hidden = select.value !== "" && group.getAttribute("data-fields-for") !== select.value;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.id === "id_recipient_list") showFields();
  });
  document.addEventListener("DOMContentLoaded", showFields);
})();
