/* Body preview in the post editor (Markdown or HTML, as the body format says). Progressive enhancement: without JavaScript the author
   uses "View on site" (the staff-only preview page). The HTML shown comes from the server,
   rendered by the same sanitiser as the published post. */
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setUp() {
    var body = document.getElementById("id_body");
    if (!body) return;
    var url = window.location.pathname.replace(/(add|\d+\/change)\/$/, "") + "markdown-preview/";

    var button = document.createElement("button");
    button.type = "button";
    button.className = "button bb-preview-button";
    button.textContent = "Preview";
    button.setAttribute("aria-controls", "bb-markdown-preview");

    var region = document.createElement("section");
    region.id = "bb-markdown-preview";
    region.className = "bb-markdown-preview";
    region.setAttribute("aria-label", "Preview of the post body");
    region.setAttribute("aria-live", "polite");
    region.hidden = true;

    body.parentNode.insertBefore(button, body.nextSibling);
    button.parentNode.insertBefore(region, button.nextSibling);

    button.addEventListener("click", function () {
      var data = new FormData();
      data.append("body", body.value);
      var format = document.getElementById("id_body_format");
      if (format) data.append("body_format", format.value);
      button.disabled = true;
      fetch(url, {
        method: "POST",
        body: data,
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (!response.ok) throw new Error("The preview could not be made (" + response.status + ").");
          return response.json();
        })
        .then(function (json) {
          region.innerHTML = json.html || "<p><em>Nothing to preview yet.</em></p>";
        })
        .catch(function (error) {
          region.textContent = error.message;
        })
        .finally(function () {
          region.hidden = false;
          button.disabled = false;
        });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
