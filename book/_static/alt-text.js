// Figures drawn inside a widget's saved output are rendered in the browser by the widgets'
// html-manager, which gives them no alt attribute. Each PNG carries its text alternative in its
// Description chunk (written by the hidden cell book/stage.py adds): copy it into alt.
(function () {
  function pngDescription(base64) {
    var bytes;
    try { bytes = atob(base64); } catch (e) { return null; }
    var pos = 8;
    while (pos + 8 <= bytes.length) {
      var length = ((bytes.charCodeAt(pos) << 24) >>> 0) + (bytes.charCodeAt(pos + 1) << 16) +
                   (bytes.charCodeAt(pos + 2) << 8) + bytes.charCodeAt(pos + 3);
      var kind = bytes.substr(pos + 4, 4);
      if (kind === "tEXt") {
        var body = bytes.substr(pos + 8, length), zero = body.indexOf("\0");
        if (body.substr(0, zero) === "Description") { return body.substr(zero + 1); }
      }
      if (kind === "IDAT") { return null; }
      pos += 12 + length;
    }
    return null;
  }
  function label(img) {
    if (img.hasAttribute("alt") && img.getAttribute("alt")) { return; }
    var src = img.getAttribute("src") || "";
    var match = src.match(/^data:image\/png;base64,(.*)$/);
    var text = match && pngDescription(match[1]);
    img.setAttribute("alt", text || "Figure drawn by the interactive control above, in its saved state");
  }
  function scan(root) {
    if (root.tagName === "IMG") { label(root); }
    if (root.querySelectorAll) { root.querySelectorAll("img").forEach(label); }
  }
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      r.addedNodes.forEach(scan);
      if (r.type === "attributes") { label(r.target); }
    });
  }).observe(document.documentElement, {childList: true, subtree: true, attributes: true, attributeFilter: ["src"]});
  document.addEventListener("DOMContentLoaded", function () { scan(document.body); });
})();

// The widgets' html-manager typesets its labels with MathJax 2's API (MathJax.Hub.Queue); the book
// loads MathJax 3. Give MathJax 3 that one call, re-checking while MathJax 3 replaces its object.
(function () {
  function shim() {
    if (window.MathJax && !window.MathJax.Hub) {
      window.MathJax.Hub = {Queue: function () {
        if (window.MathJax.typesetPromise) { window.MathJax.typesetPromise(); }
      }};
    }
  }
  shim();
  var tries = 0, timer = setInterval(function () { shim(); if (++tries > 200) { clearInterval(timer); } }, 50);
})();
