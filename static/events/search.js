// Search page behaviour that htmx does not cover: expanding a row's JSON and copying it.
// Event delegation, so rows added by "Load more" work too. No inline scripts anywhere.
(function () {
  "use strict";
  // htmx re-runs body scripts when it restores a page from history: bind the handlers once.
  if (window.sluiceSearchBound) return;
  window.sluiceSearchBound = true;

  function toggleRow(button) {
    var target = document.getElementById(button.getAttribute("aria-controls"));
    if (!target) return;
    var open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    button.textContent = open ? "▸" : "▾";
    target.hidden = open;
  }

  function copyText(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var status = button.parentElement.querySelector(".copy-status");
    var done = function (message) {
      if (status) status.textContent = message;
    };
    var text = source.textContent;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(
        function () { done("Copied"); },
        function () { done(fallbackCopy(source) ? "Copied" : "Select the text and copy it"); }
      );
    } else {
      done(fallbackCopy(source) ? "Copied" : "Select the text and copy it");
    }
  }

  function fallbackCopy(source) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  document.addEventListener("click", function (event) {
    var expand = event.target.closest("[data-expand]");
    if (expand) {
      toggleRow(expand);
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) copyText(copy);
  });
})();
