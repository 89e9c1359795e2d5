/* The on-site assessment form survives a lost connection.

   Every question posts itself through htmx when it changes. Until the server has accepted a
   change, it is also kept in localStorage ("unsent"). When the phone is back online, on every
   page load and every 20 seconds, unsent changes are applied to the page and sent again, oldest
   first. The page itself always renders the server's draft, so a reload loses nothing: saved
   answers come from the server, unsent ones from this phone. No dependencies beyond htmx. */
(function () {
  "use strict";
  var root = document.getElementById("onsite");
  if (!root || !window.htmx) return;

  var KEY = "sanshe.assessment." + root.dataset.assessment + ".unsent";
  var saveUrl = root.dataset.saveUrl;
  var stateBox = document.getElementById("sync-state");
  var flushing = false;
  var problem = "";
  var unreachable = false;  // the last attempt to reach the server failed

  // A refused value (422) comes back with the stored value and the reason: show it like a success.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "[45]..", swap: false, error: true },
    { code: "...", swap: false }
  ];

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "{}"); } catch (e) { return {}; }
  }
  function store(unsent) {
    try {
      if (Object.keys(unsent).length) localStorage.setItem(KEY, JSON.stringify(unsent));
      else localStorage.removeItem(KEY);
    } catch (e) { /* private mode or full storage: the htmx request still carries the change */ }
  }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function question(field) {
    return root.querySelector('.q[data-field="' + field.replace(/"/g, "") + '"]');
  }
  function valuesOf(q) {
    var out = [];
    q.querySelectorAll("[name]").forEach(function (input) {
      if (input.name !== q.dataset.field) return;
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      out.push(input.value);
    });
    return out;
  }
  function applyValues(q, values) {
    q.querySelectorAll("[name]").forEach(function (input) {
      if (input.name !== q.dataset.field) return;
      if (input.type === "radio" || input.type === "checkbox") input.checked = values.indexOf(input.value) >= 0;
      else input.value = values.length ? values[values.length - 1] : "";
    });
  }

  function remember(q) {
    var unsent = load();
    unsent[q.dataset.field] = { values: valuesOf(q), stamp: Date.now() + "-" + Math.random().toString(36).slice(2) };
    store(unsent);
  }
  function forget(field, stamp) {
    var unsent = load();
    // A newer change made while this one was on its way stays unsent.
    if (unsent[field] && (!stamp || unsent[field].stamp === stamp)) { delete unsent[field]; store(unsent); }
  }

  function show(saving) {
    var unsent = load(), count = Object.keys(unsent).length;
    root.querySelectorAll(".q.is-unsent").forEach(function (q) {
      if (!unsent[q.dataset.field]) q.classList.remove("is-unsent");
    });
    Object.keys(unsent).forEach(function (field) {
      var q = question(field);
      if (q) q.classList.add("is-unsent");
    });
    // Submitting while changes are unsent would score an outdated draft.
    var submitButton = document.getElementById("submit-assessment");
    if (submitButton && count > 0) submitButton.disabled = true;
    stateBox.hidden = false;
    stateBox.className = "sync-state";
    if (problem) {
      stateBox.textContent = problem + (count ? "（" + count + " 项已暂存在本机）" : "");
      stateBox.classList.add("is-offline");
    } else if (count && (!navigator.onLine || unreachable)) {
      stateBox.textContent = (navigator.onLine ? "无法连接服务器：" : "网络已断开：") + count +
        " 项已暂存在本机，恢复后自动上传";
      stateBox.classList.add("is-offline");
    } else if (saving || count) {
      stateBox.textContent = "正在保存…";
    } else {
      stateBox.textContent = "已保存 " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
      stateBox.classList.add("is-saved");
    }
  }

  // Record a change before htmx sends it (capture phase runs before htmx's own listener).
  root.addEventListener("change", function (event) {
    var q = event.target.closest(".q[data-field]");
    if (q) remember(q);
  }, true);
  root.addEventListener("input", function (event) {
    var q = event.target.closest(".q[data-field]");
    if (q && event.target.matches("input:not([type=radio]):not([type=checkbox]), textarea")) remember(q);
  }, true);

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var q = event.detail.elt;
    if (!q.dataset || !q.dataset.field) return;
    var entry = load()[q.dataset.field];
    q.dataset.sentStamp = entry ? entry.stamp : "";
    show(true);
  });

  // Every answer to a question's request passes here (on the swap target), before any swap.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var q = event.detail.requestConfig && event.detail.requestConfig.elt, xhr = event.detail.xhr;
    if (!q || !q.dataset || !q.dataset.field) return;
    if (xhr.responseURL && xhr.responseURL.indexOf("/login") >= 0) {
      event.detail.shouldSwap = false;
      problem = "登录已过期，请在新窗口重新登录后返回本页";
      show();
      return;
    }
    if (xhr.status >= 500) { unreachable = true; show(); return; }
    unreachable = false;
    forget(q.dataset.field, q.dataset.sentStamp);
    problem = "";
    if (xhr.status === 403 || xhr.status === 404) problem = "无法保存：评估已提交或已不再分派给您，请刷新页面";
    // Answers can arrive out of order; an older totals bar never replaces a newer one.
    var incoming = /data-version="(\d+)"/.exec(xhr.responseText || "");
    var current = document.getElementById("live-totals");
    if (incoming && current && Number(incoming[1]) < Number(current.dataset.version)) event.detail.shouldSwap = false;
    show();
  });
  document.body.addEventListener("htmx:sendError", function () { unreachable = true; show(); });

  function flush() {
    var unsent = load();
    var fields = Object.keys(unsent).sort(function (a, b) { return unsent[a].stamp < unsent[b].stamp ? -1 : 1; });
    if (flushing || !fields.length) return;
    flushing = true;
    show(true);
    var refused = 0, failed = false, chain = Promise.resolve();
    fields.forEach(function (field) {
      chain = chain.then(function () {
        var entry = load()[field];
        if (failed || !entry) return null;
        var body = new URLSearchParams();
        body.append("_field", field);
        entry.values.forEach(function (value) { body.append(field, value); });
        return fetch(saveUrl, {
          method: "POST", body: body, credentials: "same-origin",
          headers: { "X-CSRFToken": csrf(), "HX-Request": "true" }
        }).then(function (response) {
          if (response.redirected) { failed = true; problem = "登录已过期，请在新窗口重新登录后返回本页"; return; }
          if (response.status >= 500) { failed = true; return; }
          if (response.status >= 400) refused += 1;
          forget(field, entry.stamp);
        }, function () { failed = true; });
      });
    });
    chain.then(function () {
      flushing = false;
      unreachable = failed;
      // A refused change: show the page as the server has it, with nothing left pending.
      if (refused) { window.location.reload(); return; }
      if (!failed) { problem = ""; htmx.ajax("GET", saveUrl, { target: "#live-totals", swap: "outerHTML" }); }
      show();
    });
  }

  // On load: put unsent answers back on the page (it shows the server's draft), then send them.
  var pending = load();
  Object.keys(pending).forEach(function (field) {
    var q = question(field);
    if (q) applyValues(q, pending[field].values);
    else delete pending[field];
  });
  store(pending);
  if (Object.keys(pending).length) { show(); flush(); }

  window.addEventListener("online", flush);
  window.addEventListener("offline", function () { show(); });
  window.setInterval(function () { if (Object.keys(load()).length) flush(); }, 20000);
})();
