/* The condition builder: a policy's condition as nested groups — "全部满足" (all), "任一满足" (any),
   "都不满足" (not any) — of rows: field → operator (only the field's own) → value (a number with its
   unit, a choice or a list of choices, a street or community, two numbers for "介于", nothing for
   yes/no fields). The tree is kept as JSON in the hidden input "condition", in the form the server
   checks (sanshe.eligibility.rules); when the server refuses it, the page comes back with the same
   tree and the node it names is marked. Plain DOM, no dependencies. */
(function () {
  "use strict";
  var box = document.getElementById("condition-builder");
  if (!box || box.dataset.ready) return;
  box.dataset.ready = "1";

  var MAX_GROUP_DEPTH = 4;  // the server allows 8 levels; "都不满足" takes two
  var MODES = [["all", "全部满足"], ["any", "任一满足"], ["none", "都不满足"]];
  var DEFAULT_OP = { number: "gte", money: "lt", choice: "in", region: "within", bool: "is_true" };

  function data(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    var value = JSON.parse(node.textContent);
    if (typeof value === "string") value = value ? JSON.parse(value) : null;  // given as JSON text
    return value;
  }
  var fields = data("cb-fields") || [];
  var regions = data("cb-regions") || [];
  var initial = data("cb-initial");
  var byKey = {};
  fields.forEach(function (f) { byKey[f.key] = f; });
  var holder = document.getElementById("cb-tree");
  var output = document.getElementById("cb-condition");
  var preview = document.getElementById("cb-preview-text");
  var nodes = {};  // path in the posted tree → element, rebuilt on every change

  // --- building blocks ---------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    put(node, children);
    return node;
  }
  function put(node, children) {
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
  }
  function select(options, value, label, className) {
    var s = el("select", { "aria-label": label, className: className || "" });
    options.forEach(function (o) {
      var option = el("option", { value: o[0], text: o[1] });
      if (String(o[0]) === String(value == null ? "" : value)) option.selected = true;
      s.appendChild(option);
    });
    return s;
  }
  function removeButton(label) {
    return el("button", { type: "button", className: "cb-remove", "aria-label": label, title: label, text: "×" });
  }
  function numberInput(value, label) {
    var input = el("input", { type: "text", inputmode: "decimal", autocomplete: "off", className: "cb-number",
                              "aria-label": label });
    input.value = value == null ? "" : String(value);
    return input;
  }
  function unitOf(spec) {
    return spec.unit ? el("span", { className: "unit", text: spec.unit }) : null;
  }
  // A number when the text is one, else the text itself, so the server can say what is wrong with it.
  function num(text) {
    var t = String(text == null ? "" : text).trim();
    return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
  }

  // --- groups and rows ---------------------------------------------------------------------------
  function makeGroup(mode, children, depth) {
    var group = el("div", { className: "cb-group", role: "group" });
    group.dataset.depth = depth;
    group.dataset.mode = mode;
    var modeSelect = select(MODES, mode, "这组条件的关系", "cb-mode");
    var head = el("div", { className: "cb-group-head" },
                  [modeSelect, el("span", { className: "cb-group-hint muted small", text: "以下条件" })]);
    if (depth > 0) head.appendChild(removeButton("删除这组条件"));
    var list = el("div", { className: "cb-children" });
    var foot = el("div", { className: "cb-group-foot" }, [
      el("button", { type: "button", className: "btn btn-secondary btn-small cb-add-leaf", text: "＋ 添加条件" }),
      depth < MAX_GROUP_DEPTH
        ? el("button", { type: "button", className: "btn btn-secondary btn-small cb-add-group", text: "＋ 添加条件组" })
        : null
    ]);
    put(group, [head, list, foot]);
    group.cbMode = modeSelect;
    group.cbList = list;
    (children || []).forEach(function (child) { list.appendChild(fromTree(child, depth + 1)); });
    return group;
  }

  function makeLeaf(node) {
    node = node || {};
    var row = el("div", { className: "cb-leaf" });
    var options = [["", "请选择条件项"]].concat(fields.map(function (f) { return [f.key, f.label]; }));
    row.cbField = select(options, node.field || "", "条件项", "cb-field");
    row.cbOpBox = el("span", { className: "cb-op-box" });
    row.cbValueBox = el("span", { className: "cb-value" });
    put(row, [row.cbField, row.cbOpBox, row.cbValueBox, removeButton("删除该条件")]);
    renderOp(row, node.op);
    renderValue(row, node.value);
    return row;
  }

  function renderOp(row, op) {
    var spec = byKey[row.cbField.value];
    row.cbOpBox.textContent = "";
    row.cbOp = null;
    if (!spec) return;
    var ops = spec.ops.map(function (o) { return o.op; });
    if (ops.indexOf(op) < 0) op = ops.indexOf(DEFAULT_OP[spec.kind]) >= 0 ? DEFAULT_OP[spec.kind] : ops[0];
    var options = spec.ops.map(function (o) {
      return [o.op, o.text.indexOf(o.label) === 0 ? o.text : o.label + " " + o.text];  // "≥ 大于或等于", "属于"
    });
    row.cbOp = select(options, op, "比较方式", "cb-op");
    row.cbOpBox.appendChild(row.cbOp);
  }

  function renderValue(row, value) {
    var box = row.cbValueBox;
    var spec = byKey[row.cbField.value];
    var op = row.cbOp ? row.cbOp.value : "";
    box.textContent = "";
    row.cbRead = function () { return undefined; };
    if (!spec || !op || op === "is_true" || op === "is_false") return;
    if (op === "between") {
      var pair = Array.isArray(value) ? value : [value == null ? "" : value, ""];
      var low = numberInput(pair[0], spec.label + "下限");
      var high = numberInput(pair[1], spec.label + "上限");
      put(box, [low, el("span", { className: "muted", text: "至" }), high, unitOf(spec)]);
      row.cbRead = function () { return [num(low.value), num(high.value)]; };
      return;
    }
    if (spec.kind === "number" || spec.kind === "money") {
      var input = numberInput(Array.isArray(value) ? value[0] : value, spec.label);
      put(box, [input, unitOf(spec)]);
      row.cbRead = function () { return num(input.value); };
      return;
    }
    if (spec.kind === "region") {
      var code = Array.isArray(value) ? value[0] : value;
      var options = [["", "请选择区划"]].concat(regions.map(function (r) {
        return [r.code, ({ street: "　", community: "　　" }[r.level] || "") + r.name];
      }));
      if (code && !regions.some(function (r) { return r.code === String(code); })) options.push([String(code), String(code)]);
      var region = select(options, code, spec.label, "cb-region");
      box.appendChild(region);
      row.cbRead = function () { return region.value; };
      return;
    }
    if (op === "in" || op === "not_in") {
      var chosen = (Array.isArray(value) ? value : (value == null || value === "" ? [] : [value])).map(String);
      var list = el("span", { className: "cb-checks" });
      spec.choices.forEach(function (c) {
        var check = el("input", { type: "checkbox", value: c.value });
        check.checked = chosen.indexOf(String(c.value)) >= 0;
        list.appendChild(el("label", { className: "cb-check" }, [check, document.createTextNode(c.label)]));
      });
      box.appendChild(list);
      row.cbRead = function () {
        return Array.prototype.map.call(list.querySelectorAll("input:checked"), function (i) { return i.value; });
      };
      return;
    }
    var single = Array.isArray(value) ? value[0] : value;
    var choice = select([["", "请选择"]].concat(spec.choices.map(function (c) { return [c.value, c.label]; })),
                        single, spec.label, "cb-choice");
    box.appendChild(choice);
    row.cbRead = function () { return choice.value; };
  }

  // A tree from the server: a single row or a "not" of anything becomes a group, so that every
  // row sits in a group the officer can see.
  function fromTree(tree, depth) {
    if (tree && typeof tree === "object" && !Array.isArray(tree)) {
      if (Array.isArray(tree.all)) return makeGroup("all", tree.all, depth);
      if (Array.isArray(tree.any)) return makeGroup("any", tree.any, depth);
      if ("not" in tree) {
        var inner = tree.not;
        if (inner && Array.isArray(inner.any)) return makeGroup("none", inner.any, depth);
        return makeGroup("none", [inner], depth);
      }
      return depth === 0 ? makeGroup("all", [tree], 0) : makeLeaf(tree);
    }
    return depth === 0 ? makeGroup("all", [], 0) : makeLeaf({});
  }

  // --- the posted tree -----------------------------------------------------------------------------
  function toTree(node, path) {
    nodes[path] = node;
    if (node.classList.contains("cb-leaf")) {
      var leaf = { field: node.cbField.value };
      if (node.cbOp) leaf.op = node.cbOp.value;
      var value = node.cbRead();
      if (value !== undefined) leaf.value = value;
      return leaf;
    }
    var mode = node.cbMode.value;
    var children = Array.prototype.slice.call(node.cbList.children);
    if (mode === "none") {
      nodes[path + "not."] = node;
      if (children.length === 1) return { not: toTree(children[0], path + "not.") };
      return { not: { any: children.map(function (c, i) { return toTree(c, path + "not.any." + i + "."); }) } };
    }
    var out = {};
    out[mode] = children.map(function (c, i) { return toTree(c, path + mode + "." + i + "."); });
    return out;
  }

  // --- the condition in words (as the policy page shows it) -------------------------------------------
  function valueText(spec, value) {
    if (value === "" || value == null) return "？";
    if (spec.kind === "choice") {
      var values = Array.isArray(value) ? value : [value];
      if (!values.length) return "？";
      return values.map(function (v) {
        var found = spec.choices.filter(function (c) { return String(c.value) === String(v); })[0];
        return found ? found.label : String(v);
      }).join("、");
    }
    if (spec.kind === "region") {
      var region = regions.filter(function (r) { return r.code === String(value); })[0];
      return region ? region.name : String(value);
    }
    return String(value) + (spec.kind === "money" ? "元" : "");
  }
  function join(parts, word) {
    var text = parts[0];
    parts.slice(1).forEach(function (part) {
      text += (/）$/.test(text) ? "" : " ") + word + (/^（/.test(part) ? "" : " ") + part;
    });
    return text;
  }
  function describe(tree, nested) {
    if (!tree || typeof tree !== "object") return "";
    if (tree.all || tree.any) {
      var key = tree.all ? "all" : "any";
      var parts = tree[key].map(function (c) { return describe(c, true); }).filter(Boolean);
      if (!parts.length) return "";
      if (parts.length === 1) return parts[0];
      var joined = join(parts, key === "all" ? "且" : "或");
      return nested ? "（" + joined + "）" : joined;
    }
    if ("not" in tree) {
      var inner = describe(tree.not, false);
      return inner ? "并非（" + inner + "）" : "";
    }
    var spec = byKey[tree.field];
    var op = spec && spec.ops.filter(function (o) { return o.op === tree.op; })[0];
    if (!op) return "";
    if (tree.op === "is_true" || tree.op === "is_false") return spec.label + "：" + op.label;
    if (tree.op === "between") {
      var pair = Array.isArray(tree.value) ? tree.value : ["", ""];
      return spec.label + " 介于 " + valueText(spec, pair[0]) + "–" + valueText(spec, pair[1]);
    }
    return spec.label + " " + op.label + " " + valueText(spec, tree.value);
  }

  // --- wiring ----------------------------------------------------------------------------------------
  var root = fromTree(initial, 0);
  holder.textContent = "";
  holder.appendChild(root);

  function update() {
    nodes = {};
    var tree = toTree(root, "");
    output.value = JSON.stringify(tree);
    preview.textContent = describe(tree, false) || "（尚未设置条件）";
  }

  function clearError(node) {
    var marked = node && node.closest(".cb-has-error");
    if (!marked) return;
    marked.classList.remove("cb-has-error");
    var note = marked.querySelector(":scope > .cb-error");
    if (note) note.remove();
  }

  holder.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || !holder.contains(button)) return;
    var group = button.closest(".cb-group");
    if (button.classList.contains("cb-add-leaf")) {
      var row = makeLeaf({});
      group.cbList.appendChild(row);
      row.cbField.focus();
    } else if (button.classList.contains("cb-add-group")) {
      var inner = makeGroup("any", [{}], Number(group.dataset.depth) + 1);
      group.cbList.appendChild(inner);
      inner.querySelector(".cb-field").focus();
    } else if (button.classList.contains("cb-remove")) {
      var target = button.closest(".cb-leaf") || group;
      if (target !== root) target.remove();
    } else {
      return;
    }
    update();
  });

  holder.addEventListener("change", function (event) {
    var target = event.target;
    var row = target.closest(".cb-leaf");
    if (target.classList.contains("cb-field")) {
      renderOp(row, null);
      renderValue(row, undefined);
    } else if (target.classList.contains("cb-op")) {
      renderValue(row, row.cbRead());
    } else if (target.classList.contains("cb-mode")) {
      target.closest(".cb-group").dataset.mode = target.value;
    }
    clearError(target);
    update();
  });
  holder.addEventListener("input", function (event) {
    clearError(event.target);
    update();
  });
  var form = box.closest("form");
  if (form) form.addEventListener("submit", update);

  update();

  // The server's refusal: mark the node it names (the path in the posted tree, e.g. "all.1.value").
  var message = box.dataset.errorMessage;
  if (message) {
    var path = (box.dataset.errorPath || "").replace(/(^|\.)(field|op|value)$/, "$1");
    if (path && path.charAt(path.length - 1) !== ".") path += ".";
    while (!nodes[path] && path) path = path.replace(/[^.]+\.$/, "");
    var marked = nodes[path] || root;
    marked.classList.add("cb-has-error");
    var note = el("div", { className: "cb-error error", role: "alert", text: message });
    if (marked.classList.contains("cb-leaf")) marked.appendChild(note);
    else marked.insertBefore(note, marked.cbList);
  }
})();
