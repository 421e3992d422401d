(function () {
  "use strict";
  var input = document.getElementById("search");
  var list = document.getElementById("search-results");
  if (!input || !list) {
    return;
  }
  var root = document.body.getAttribute("data-root") || "";
  function render() {
    var terms = input.value.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
    list.textContent = "";
    if (terms.length === 0) {
      list.hidden = true;
      return;
    }
    var hits = INDEX.filter(function (entry) {
      return terms.every(function (t) { return entry.text.indexOf(t) !== -1; });
    }).slice(0, 20);
    if (hits.length === 0) {
      var none = document.createElement("li");
      none.className = "none";
      none.textContent = "No matches";
      list.appendChild(none);
    }
    hits.forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = root + entry.url;
      link.textContent = entry.title;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = entry.kind === "service" ? "service" : "use case \u00b7 " + entry.service;
      item.appendChild(link);
      item.appendChild(kind);
      list.appendChild(item);
    });
    list.hidden = false;
  }
  input.addEventListener("input", render);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      input.value = "";
      render();
    }
  });
})();
