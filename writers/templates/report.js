/* Sorting (click a header) and filtering (type in a box) for the report's tables. */
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

  document.querySelectorAll("table.sortable").forEach(wireSorting);
  document.querySelectorAll("input[data-filter]").forEach(wireFilter);
  document.body.setAttribute("data-ready", "1");
}());
