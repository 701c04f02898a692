/* Progressive enhancement for replies: without JavaScript, "Reply" opens a reply page.
   With it, the comment form moves under the comment being answered. */
(function () {
  "use strict";
  var respond = document.getElementById("respond");
  if (!respond) return;
  var form = respond.querySelector("form");
  var heading = document.getElementById("respond-heading");
  var replyInput = form && form.querySelector("input[name=reply_to]");
  if (!form || !heading || !replyInput) return;
  var home = respond.parentNode;
  var homeNext = respond.nextSibling;
  var originalHeading = heading.textContent;

  var cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "button button--secondary cancel-reply";
  cancel.textContent = "Cancel reply";
  cancel.hidden = true;
  heading.parentNode.insertBefore(cancel, heading.nextSibling);

  function moveBack() {
    replyInput.value = "";
    heading.textContent = originalHeading;
    cancel.hidden = true;
    home.insertBefore(respond, homeNext);
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
  cancel.addEventListener("click", moveBack);

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-reply-to]");
    if (!link) return;
    event.preventDefault();
    var item = document.getElementById("comment-" + link.getAttribute("data-reply-to"));
    if (!item) return;
    var author = item.querySelector(".comment-author");
    replyInput.value = link.getAttribute("data-reply-to");
    heading.textContent = "Reply to " + (author ? author.textContent.trim() : "this comment");
    cancel.hidden = false;
    var article = item.querySelector("article");
    article.parentNode.insertBefore(respond, article.nextSibling);
    var textarea = form.querySelector("textarea");
    if (textarea) textarea.focus();
  });
})();
