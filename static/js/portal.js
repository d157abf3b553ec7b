// Copy buttons: <button data-copy="#id"> or data-copy-text="...". Works without
// htmx; the clipboard API needs a secure context or localhost.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy], [data-copy-text]");
  if (!button) return;
  var text = button.getAttribute("data-copy-text");
  if (text === null) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    text = source ? (source.value || source.textContent).trim() : "";
  }
  var done = function () {
    var label = button.textContent;
    button.textContent = button.getAttribute("data-copied") || "✓";
    setTimeout(function () { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else {
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    done();
  }
});
