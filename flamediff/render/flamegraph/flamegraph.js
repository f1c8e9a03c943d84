// Zoom, search and links for a flamediff flame graph. Everything is scoped to the <svg> that
// holds this script, so several graphs can sit inline in one HTML page; the URL fragment
// and Ctrl-F are only claimed when the SVG is the document itself.
(function () {
  "use strict";
  var script = document.currentScript;
  var svg = script && script.ownerSVGElement ? script.ownerSVGElement : document.documentElement;
  var standalone = svg === document.documentElement;
  var FRAME_HEIGHT = parseFloat(svg.getAttribute("data-frame-height"));
  var CHAR_WIDTH = parseFloat(svg.getAttribute("data-char-width"));
  // Fewer characters of a name than this say nothing: such frames get no label at all.
  var MIN_LABEL = parseInt(svg.getAttribute("data-min-label") || "4", 10);
  var SEPARATOR = " \u2014 ";  // between a frame's name and its numbers in the tooltip
  var frameGroup = svg.querySelector("g.frames");
  var resetButton = svg.querySelector(".control.reset");
  var searchButton = svg.querySelector(".control.search");
  var details = svg.querySelector("text.details");
  var matched = svg.querySelector("text.matched");

  var frames = [];
  var byDepth = [];
  var rootFrame = null;
  var groups = frameGroup.children;
  for (var i = 0; i < groups.length; i++) {
    var g = groups[i];
    if (g.tagName !== "g") continue;
    var title = g.firstElementChild;
    var rect = title.nextElementSibling;
    var tip = title.textContent;
    var frame = {
      g: g,
      rect: rect,
      text: rect.nextElementSibling,
      tip: tip,
      // The numbers never contain the separator, so the last one ends the name.
      name: tip.slice(0, tip.lastIndexOf(SEPARATOR)),
      x: parseFloat(rect.getAttribute("x")),
      w: parseFloat(rect.getAttribute("width")),
      y: parseFloat(rect.getAttribute("y")),
    };
    frames.push(frame);
    g.flameFrame = frame;
    if (!rootFrame || frame.y > rootFrame.y) rootFrame = frame;
  }
  if (!rootFrame) return;
  frames.forEach(function (f) {
    f.depth = Math.round((rootFrame.y - f.y) / FRAME_HEIGHT);
    (byDepth[f.depth] = byDepth[f.depth] || []).push(f);
  });
  // Positions are rounded to 1/100 px in the file; this absorbs that rounding.
  var EPS = 0.02;
  var X0 = rootFrame.x;
  var FULL = rootFrame.w;
  var zoomed = null;
  var searchTerm = "";

  svg.classList.add("scripted");

  function label(name, width) {
    var fits = Math.floor((width - 6) / CHAR_WIDTH);
    if (name.length <= fits) return name;
    if (fits - 2 < MIN_LABEL) return "";
    return name.slice(0, fits - 2) + "..";
  }

  function place(f, x, w) {
    f.rect.setAttribute("x", x.toFixed(2));
    f.rect.setAttribute("width", w.toFixed(2));
    var text = label(f.name, w);
    if (!f.text && text) {
      // Frames too narrow for a label in the file get one once zooming widens them.
      f.text = document.createElementNS("http://www.w3.org/2000/svg", "text");
      f.text.setAttribute("y", (f.y + 11.5).toString());
      f.g.appendChild(f.text);
    }
    if (f.text) {
      f.text.setAttribute("x", (x + 3).toFixed(2));
      f.text.textContent = text;
    }
  }

  function contains(outer, inner) {
    return inner.x >= outer.x - EPS && inner.x + inner.w <= outer.x + outer.w + EPS;
  }

  function zoom(target) {
    zoomed = target;
    var scale = FULL / target.w;
    frames.forEach(function (f) {
      var cls = f.g.classList;
      cls.remove("hidden", "ancestor");
      if (f.depth < target.depth) {
        if (contains(f, target)) {
          cls.add("ancestor");
          place(f, X0, FULL);
        } else {
          cls.add("hidden");
        }
      } else if (contains(target, f)) {
        place(f, X0 + (f.x - target.x) * scale, f.w * scale);
      } else {
        cls.add("hidden");
      }
    });
    resetButton.classList.remove("hidden");
    updateLink();
  }

  function unzoom() {
    zoomed = null;
    frames.forEach(function (f) {
      f.g.classList.remove("hidden", "ancestor");
      place(f, f.x, f.w);
    });
    resetButton.classList.add("hidden");
    updateLink();
  }

  function pathOf(target) {
    var names = [];
    for (var depth = 1; depth <= target.depth; depth++) {
      var level = byDepth[depth] || [];
      for (var j = 0; j < level.length; j++) {
        if (contains(level[j], target)) {
          names.push(level[j].name);
          break;
        }
      }
    }
    return names;
  }

  function findPath(names) {
    var found = rootFrame;
    for (var depth = 1; depth <= names.length; depth++) {
      var level = byDepth[depth] || [];
      var next = null;
      for (var j = 0; j < level.length && !next; j++) {
        if (level[j].name === names[depth - 1] && contains(found, level[j])) next = level[j];
      }
      if (!next) return found;
      found = next;
    }
    return found;
  }

  function search(term) {
    searchTerm = term || "";
    var pattern = null;
    if (searchTerm) {
      // Smart case: an all-lower-case term matches regardless of case.
      var flags = searchTerm === searchTerm.toLowerCase() ? "i" : "";
      try {
        pattern = new RegExp(searchTerm, flags);
      } catch (err) {
        pattern = new RegExp(searchTerm.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), flags);
      }
    }
    var spans = [];
    frames.forEach(function (f) {
      var hit = pattern !== null && f !== rootFrame && pattern.test(f.name);
      f.g.classList.toggle("match", hit);
      if (hit) spans.push([f.x, f.x + f.w]);
    });
    if (pattern === null) {
      matched.textContent = " ";
      searchButton.textContent = "Search";
    } else {
      // Nested matches cover the same time once: measure the union of their spans.
      spans.sort(function (a, b) { return a[0] - b[0]; });
      var covered = 0;
      var end = -Infinity;
      spans.forEach(function (s) {
        if (s[1] > end) {
          covered += s[1] - Math.max(s[0], end);
          end = s[1];
        }
      });
      var share = FULL > 0 ? (100 * covered) / FULL : 0;
      matched.textContent =
        "Matched: " + share.toFixed(1) + "% (" + spans.length + (spans.length === 1 ? " frame)" : " frames)");
      searchButton.textContent = "Clear search";
    }
    updateLink();
  }

  function askSearch() {
    if (searchTerm) {
      search("");
      return;
    }
    var term = window.prompt("Search frames (regular expression):", "");
    if (term) search(term);
  }

  var applyingLink = false;

  function updateLink() {
    if (!standalone || applyingLink || !window.history || !window.history.replaceState) return;
    var parts = [];
    if (searchTerm) parts.push("search=" + encodeURIComponent(searchTerm));
    if (zoomed) parts.push("zoom=" + pathOf(zoomed).map(encodeURIComponent).join(";"));
    var url = parts.length ? "#" + parts.join("&") : location.pathname + location.search;
    try {
      window.history.replaceState(null, "", url);
    } catch (err) {
      // Some viewers refuse (file: URLs in a few browsers); the link is a convenience only.
    }
  }

  // `#search=REGEX&zoom=a;b;c` (or the same as a query string): each part URL-encoded, the
  // zoom path listing frame names from below the root down to the frame to zoom into.
  function applyLink() {
    var fragment = location.hash.replace(/^#/, "") || location.search.replace(/^\?/, "");
    var params = {};
    fragment.split("&").forEach(function (pair) {
      var cut = pair.indexOf("=");
      if (cut > 0) params[pair.slice(0, cut)] = pair.slice(cut + 1);
    });
    applyingLink = true;
    try {
      unzoom();
      search("");
      if (params.zoom) {
        var target = findPath(params.zoom.split(";").map(safeDecode));
        if (target !== rootFrame) zoom(target);
      }
      if (params.search) search(safeDecode(params.search));
    } finally {
      applyingLink = false;
    }
  }

  function safeDecode(text) {
    try {
      return decodeURIComponent(text);
    } catch (err) {
      return text;
    }
  }

  frameGroup.addEventListener("click", function (event) {
    var g = event.target.closest("g");
    if (g && g.flameFrame) {
      if (g.flameFrame === rootFrame) unzoom();
      else zoom(g.flameFrame);
    }
  });
  frameGroup.addEventListener("mouseover", function (event) {
    var g = event.target.closest("g");
    if (g && g.flameFrame) details.textContent = g.flameFrame.tip;
  });
  frameGroup.addEventListener("mouseout", function () {
    details.textContent = " ";
  });
  resetButton.addEventListener("click", unzoom);
  searchButton.addEventListener("click", askSearch);
  if (standalone) {
    window.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && (event.key === "f" || event.key === "F")) {
        event.preventDefault();
        askSearch();
      } else if (event.key === "Escape") {
        search("");
      }
    });
    applyLink();
    window.addEventListener("hashchange", applyLink);
  }
})();
