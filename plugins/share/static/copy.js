// Adds a "Copy the message" button to the share panel. Without JavaScript
// the message stays in a read-only text box that can be selected and
// copied by hand, so the button only exists when it can work.
(function () {
  "use strict";
  document.querySelectorAll("[data-share-copy]").forEach(function (box) {
    var text = box.querySelector("textarea");
    var status = box.querySelector("[role=status]");
    if (!text || box.querySelector("button")) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button";
    button.textContent = box.getAttribute("data-copy-label");
    button.style.marginTop = ".5rem";
    text.insertAdjacentElement("afterend", button);

    function say(label) { if (status) { status.textContent = box.getAttribute(label); } }

    function fallback() {
      text.focus();
      text.select();
      try {
        say(document.execCommand("copy") ? "data-copied-label" : "data-failed-label");
      } catch (e) {
        say("data-failed-label");
      }
    }

    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text.value).then(function () { say("data-copied-label"); }, fallback);
      } else {
        fallback();
      }
    });
  });
})();
