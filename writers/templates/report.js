/* The report's behaviour: sorting (click a header) and filtering (type in a box) of tables,
   the severity and category filters of the findings, the per-page view and the topic graph.
   Crawled text from the embedded data is only ever set as text (textContent), never as HTML. */
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var value = cell.getAttribute("data-v");
    return value !== null ? value : cell.textContent.trim();
  }

  function compareValues(a, b, numeric) {
    if (numeric) {
      var x = parseFloat(a), y = parseFloat(b);
      x = isNaN(x) ? -Infinity : x;
      y = isNaN(y) ? -Infinity : y;
      return x === y ? 0 : (x < y ? -1 : 1);
    }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, header, index) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var numeric = header.getAttribute("data-type") === "number";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
      other.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var order = compareValues(cellValue(a, index), cellValue(b, index), numeric);
      return ascending ? order : -order;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
  }

  function wireSorting(table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      header.tabIndex = 0;
      header.title = "Sort by this column";
      header.addEventListener("click", function () { sortBy(table, header, index); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, header, index);
        }
      });
    });
  }

  function applyFilter(input, tables, counter) {
    var query = input.value.trim().toLowerCase();
    var shown = 0, total = 0;
    tables.forEach(function (table) {
      var visibleHere = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var match = !query || row.textContent.toLowerCase().indexOf(query) !== -1;
        row.hidden = !match;
        if (match) { visibleHere += 1; }
        total += 1;
      });
      var group = table.closest("[data-group]");
      if (group) { group.hidden = visibleHere === 0; }
      shown += visibleHere;
    });
    if (counter) { counter.textContent = shown + " of " + total + " rows shown"; }
  }

  function wireFilter(input) {
    var tables = Array.prototype.slice.call(
      document.querySelectorAll(input.getAttribute("data-filter")));
    var counter = document.getElementById(input.getAttribute("data-counter"));
    input.addEventListener("input", function () { applyFilter(input, tables, counter); });
    applyFilter(input, tables, counter);
  }

  // ------------------------------------------------------------ severity and category

  function wireIssueFilters() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-severity-filter]"));
    var select = document.getElementById("category-filter");
    if (!boxes.length || !select) { return; }
    var counter = document.getElementById("issue-filter-count");
    var blocks = document.querySelectorAll("details.issue");
    var rows = document.querySelectorAll("#table-findings tbody tr[data-severity]");
    function apply() {
      var wanted = {};
      boxes.forEach(function (box) { wanted[box.getAttribute("data-severity-filter")] = box.checked; });
      var category = select.value;
      function keep(element) {
        var severity = element.getAttribute("data-severity");
        var severityOk = wanted.hasOwnProperty(severity) ? wanted[severity] : true;
        return severityOk && (!category || element.getAttribute("data-category") === category);
      }
      var shown = 0;
      Array.prototype.forEach.call(blocks, function (block) {
        block.hidden = !keep(block);
        if (!block.hidden) { shown += 1; }
        if (category && !block.hidden) { block.open = true; }
      });
      document.querySelectorAll("[data-severity-group]").forEach(function (group) {
        group.hidden = !group.querySelector("details.issue:not([hidden])");
      });
      Array.prototype.forEach.call(rows, function (row) {
        row.classList.toggle("filtered-out", !keep(row));
      });
      if (counter) { counter.textContent = shown + " of " + blocks.length + " categories shown"; }
    }
    boxes.forEach(function (box) { box.addEventListener("change", apply); });
    select.addEventListener("change", apply);
    apply();
  }

  // ------------------------------------------------------------ embedded data

  var dataCache = null;
  function pageData() {
    if (dataCache === null) {
      var element = document.getElementById("page-data");
      dataCache = element ? JSON.parse(element.textContent) : { u: [], s: [], p: [], l: [], f: [] };
      dataCache.out = {};
      dataCache.into = {};
      dataCache.l.forEach(function (link, index) {
        (dataCache.out[link[0]] = dataCache.out[link[0]] || []).push(index);
        (dataCache.into[link[1]] = dataCache.into[link[1]] || []).push(index);
      });
      dataCache.findingsOf = {};
      dataCache.f.forEach(function (finding, index) {
        (dataCache.findingsOf[finding[0]] = dataCache.findingsOf[finding[0]] || []).push(index);
      });
    }
    return dataCache;
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function urlLink(url, label) {
    if (/^https?:\/\//i.test(url)) {
      var a = element("a", label || url);
      a.href = url;
      a.rel = "noreferrer noopener";
      return a;
    }
    return element("span", label || url);
  }

  function pageButton(index, label) {
    var button = element("button", label, "page-link");
    button.type = "button";
    button.setAttribute("data-page", String(index));
    return button;
  }

  function number(value, digits) {
    if (value === null || value === undefined) { return ""; }
    return digits ? Number(value).toFixed(digits) : Number(value).toLocaleString("en");
  }

  var SHOWN_LINKS = 300;

  function linkTable(data, indices, other, caption) {
    var wrap = element("div", null, "view-part");
    wrap.appendChild(element("h4", caption + " (" + indices.length + ")"));
    if (!indices.length) { wrap.appendChild(element("p", "None in the embedded data.", "note")); return wrap; }
    var sorted = indices.slice().sort(function (a, b) {
      var x = data.l[a], y = data.l[b];
      return (y[5] - x[5]) || ((x[3] === 0 ? 0 : 1) - (y[3] === 0 ? 0 : 1)) ||
        ((x[4] === null ? 2 : x[4]) - (y[4] === null ? 2 : y[4]));
    });
    var table = element("table", null, "view-table");
    var head = table.createTHead().insertRow();
    [other === 0 ? "From" : "To", "Anchor", "Position", "Relevance", "Status", "Flags"].forEach(function (h) {
      head.appendChild(element("th", h));
    });
    var body = table.createTBody();
    sorted.slice(0, SHOWN_LINKS).forEach(function (index) {
      var link = data.l[index];
      var row = body.insertRow();
      var cell = row.insertCell();
      var url = data.u[link[other]];
      if (link[other] < data.p.length) {
        cell.appendChild(pageButton(link[other], url));
      } else {
        cell.appendChild(urlLink(url));
      }
      row.insertCell().textContent = data.s[link[2]];
      row.insertCell().textContent = data.positions[link[3]];
      var relevance = row.insertCell();
      relevance.className = "num";
      relevance.textContent = number(link[4], 2);
      var status = row.insertCell();
      status.className = "num";
      status.textContent = link[6] === null ? "" : String(link[6]);
      var flagsCell = row.insertCell();
      [[1, "off-topic"], [2, "promotional"], [4, "broken"]].forEach(function (pair) {
        if (link[5] & pair[0]) {
          flagsCell.appendChild(element("span", pair[1], "badge " + pair[1]));
          flagsCell.appendChild(document.createTextNode(" "));
        }
      });
      if (link[5]) { row.className = "flagged-row"; }
    });
    var box = element("div", null, "table-wrap short");
    box.appendChild(table);
    wrap.appendChild(box);
    if (sorted.length > SHOWN_LINKS) {
      wrap.appendChild(element("p", "Showing " + SHOWN_LINKS + " of " + sorted.length +
        " (flagged first); links.csv has them all.", "note"));
    }
    return wrap;
  }

  function relevanceSummary(data, outIndices) {
    var scored = outIndices.map(function (i) { return data.l[i]; })
      .filter(function (link) { return link[3] === 0 && link[4] !== null; });
    if (!scored.length) { return element("p", "No scored content link on this page.", "note"); }
    var sum = 0, off = 0, lowest = 1;
    scored.forEach(function (link) {
      sum += link[4];
      lowest = Math.min(lowest, link[4]);
      if (link[5] & 1) { off += 1; }
    });
    return element("p", scored.length + " scored content links out: mean relevance " +
      (sum / scored.length).toFixed(2) + ", lowest " + lowest.toFixed(2) + ", " + off +
      " judged off-topic.", "relevance-summary");
  }

  function openPage(index) {
    var data = pageData();
    var view = document.getElementById("page-view");
    if (!view || !data.p[index]) { return; }
    var page = data.p[index];
    var url = data.u[index];
    view.textContent = "";
    view.hidden = false;
    view.setAttribute("data-page", String(index));
    var close = element("button", "Close", "close-view");
    close.type = "button";
    close.addEventListener("click", function () { view.hidden = true; });
    view.appendChild(close);
    view.appendChild(element("h3", page[0] || url));
    var line = element("p", null, "source-url");
    line.appendChild(urlLink(url));
    view.appendChild(line);
    var facts = element("dl", null, "facts");
    [["status", page[1]], ["depth", page[2]], ["topic", data.s[page[9]]],
     ["link score", number(page[4], 1)], ["inlinks", page[5]], ["outlinks", page[6]],
     ["words", page[7]], ["indexable", page[8] === null ? "" : (page[8] ? "yes" : "no")]
    ].forEach(function (pair) {
      var item = element("div");
      item.appendChild(element("dt", pair[0]));
      item.appendChild(element("dd", pair[1] === null || pair[1] === undefined ? "" : pair[1]));
      facts.appendChild(item);
    });
    view.appendChild(facts);
    var outIndices = data.out[index] || [];
    view.appendChild(relevanceSummary(data, outIndices));
    var findings = data.findingsOf[index] || [];
    var part = element("div", null, "view-part");
    part.appendChild(element("h4", "Findings (" + findings.length + ")"));
    if (findings.length) {
      var list = element("ul", null, "view-findings");
      findings.forEach(function (i) {
        var finding = data.f[i];
        var item = element("li");
        var severity = data.severities[finding[1]];
        item.appendChild(element("span", severity, "badge " + severity));
        item.appendChild(document.createTextNode(" " + data.s[finding[2]] + ": " + finding[3] +
          (finding[4] ? " → " + finding[4] : "")));
        list.appendChild(item);
      });
      part.appendChild(list);
    } else {
      part.appendChild(element("p", "No finding on this page.", "note"));
    }
    view.appendChild(part);
    view.appendChild(linkTable(data, outIndices, 1, "Outlinks"));
    view.appendChild(linkTable(data, data.into[index] || [], 0, "Inlinks"));
    view.scrollIntoView({ block: "start" });
  }

  var SHOWN_RESULTS = 25;

  function wirePageSearch() {
    var input = document.getElementById("page-search");
    var results = document.getElementById("page-results");
    var counter = document.getElementById("page-search-count");
    if (!input || !results) { return; }
    input.addEventListener("input", function () {
      var query = input.value.trim().toLowerCase();
      results.textContent = "";
      if (!query) { counter.textContent = ""; return; }
      var data = pageData();
      var found = [];
      for (var i = 0; i < data.p.length; i += 1) {
        if (data.u[i].toLowerCase().indexOf(query) !== -1 ||
            (data.p[i][0] || "").toLowerCase().indexOf(query) !== -1) {
          found.push(i);
        }
      }
      found.slice(0, SHOWN_RESULTS).forEach(function (index) {
        var item = element("li");
        item.appendChild(pageButton(index, data.u[index]));
        if (data.p[index][0]) { item.appendChild(element("span", " " + data.p[index][0], "muted")); }
        results.appendChild(item);
      });
      counter.textContent = found.length > SHOWN_RESULTS
        ? SHOWN_RESULTS + " of " + found.length + " pages shown: type more of the URL"
        : found.length + (found.length === 1 ? " page" : " pages");
    });
    input.addEventListener("keydown", function (event) {
      var first = results.querySelector("button[data-page]");
      if (event.key === "Enter" && first) { openPage(Number(first.getAttribute("data-page"))); }
    });
  }

  // ------------------------------------------------------------ topic graph

  var SHOWN_TOPIC_PAGES = 100;

  function showTopic(node) {
    var data = pageData();
    var panel = document.getElementById("topic-panel");
    if (!panel) { return; }
    document.querySelectorAll(".topic-node").forEach(function (other) {
      other.classList.toggle("selected", other.getAttribute("data-node") === String(node));
    });
    document.querySelectorAll(".topic-graph .edges path").forEach(function (path) {
      var touches = path.getAttribute("data-one") === String(node) ||
        path.getAttribute("data-other") === String(node);
      path.classList.toggle("dim", !touches);
    });
    var pages = [];
    data.p.forEach(function (page, index) { if (page[3] === node) { pages.push(index); } });
    pages.sort(function (a, b) { return (data.p[b][4] || 0) - (data.p[a][4] || 0); });
    panel.textContent = "";
    panel.appendChild(element("h3", (data.topics[node] || "topic") + ": " + pages.length + " pages"));
    var list = element("ol", null, "topic-pages");
    pages.slice(0, SHOWN_TOPIC_PAGES).forEach(function (index) {
      var item = element("li");
      item.appendChild(pageButton(index, data.p[index][0] || data.u[index]));
      list.appendChild(item);
    });
    panel.appendChild(list);
    if (pages.length > SHOWN_TOPIC_PAGES) {
      panel.appendChild(element("p", "The " + SHOWN_TOPIC_PAGES + " strongest shown; pages.csv " +
        "lists every page with its topic.", "note"));
    }
  }

  function wireTopicGraph() {
    document.querySelectorAll(".topic-node").forEach(function (node) {
      var index = Number(node.getAttribute("data-node"));
      node.addEventListener("click", function () { showTopic(index); });
      node.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); showTopic(index); }
      });
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button[data-page]") : null;
    if (target) { openPage(Number(target.getAttribute("data-page"))); }
  });

  document.querySelectorAll("table.sortable").forEach(wireSorting);
  document.querySelectorAll("input[data-filter]").forEach(wireFilter);
  wireIssueFilters();
  wirePageSearch();
  wireTopicGraph();
  document.body.setAttribute("data-ready", "1");
}());
