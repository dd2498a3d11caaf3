/* fundsvc web UI: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  function digits(text) { return (text || "").replace(/[^0-9]/g, ""); }
  function groupThousands(d) { return d.replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, "."); }
  function debounce(fn, ms) { var t; return function () { var a = arguments, self = this; clearTimeout(t); t = setTimeout(function () { fn.apply(self, a); }, ms); }; }
  function getJSON(url, signal) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: signal })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  /* Amounts: thousand separators as you type, and the amount in words (the receipt's own wording, from the server). */
  var amountUrl = document.body.getAttribute("data-amount-url");
  function bindMoney(root) { $$("input.money", root).forEach(function (input) {
    if (input.getAttribute("data-bound")) { return; }
    input.setAttribute("data-bound", "1");
    var out = document.getElementById(input.id + "-words") || document.getElementById(input.getAttribute("data-words"));
    var pending = null;
    var showWords = debounce(function () {
      if (!out || !amountUrl) { return; }
      var d = digits(input.value);
      if (!d || d === "0") { out.textContent = ""; return; }
      if (pending) { pending.abort(); }
      pending = new AbortController();
      getJSON(amountUrl + "?amount=" + d, pending.signal)
        .then(function (data) { if (digits(input.value) === d) { out.textContent = data.words || ""; } })
        .catch(function () { /* offline or aborted: the figure alone still shows */ });
    }, 120);
    function format() {
      var d = digits(input.value);
      var formatted = d ? groupThousands(d) : "";
      if (formatted !== input.value) {
        // Keep the caret after the same number of digits.
        var pos = input.selectionStart, before = digits(input.value.slice(0, pos)).length;
        input.value = formatted;
        var i = 0, seen = 0;
        while (i < formatted.length && seen < before) { if (/\d/.test(formatted[i])) { seen++; } i++; }
        try { input.setSelectionRange(i, i); } catch (e) { /* not focusable */ }
      }
      showWords();
    }
    input.addEventListener("input", format);
    if (input.value) { format(); }
  }); }
  bindMoney(document);

  /* Forms that ask before doing something that cannot be undone. */
  $$("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });

  /* Print the embedded PDF (falls back to opening it). */
  $$("[data-print-frame]").forEach(function (button) {
    button.addEventListener("click", function () {
      var frame = document.getElementById(button.getAttribute("data-print-frame"));
      try { frame.contentWindow.focus(); frame.contentWindow.print(); }
      catch (e) { window.open(button.getAttribute("data-pdf"), "_blank"); }
    });
  });

  /* The donation form. */
  var form = $("#donation-form");
  if (form) { donationForm(form); }

  function donationForm(form) {
    var name = $("#donor_name"), list = $("#donor-results"), donorId = $("#donor_id"), picked = $("#donor-picked");
    var phone = $("#donor_phone"), method = $("#method");
    var results = [], active = -1, searching = null;

    function close() { list.hidden = true; name.setAttribute("aria-expanded", "false"); name.removeAttribute("aria-activedescendant"); active = -1; }
    function render() {
      list.innerHTML = "";
      results.forEach(function (d, i) {
        var li = document.createElement("li");
        li.id = "donor-opt-" + i; li.setAttribute("role", "option"); li.setAttribute("aria-selected", i === active ? "true" : "false");
        li.textContent = d.name;
        var extra = [d.phone, d.tax_code, d.address].filter(Boolean).join(" · ");
        if (extra) { var s = document.createElement("small"); s.textContent = extra; li.appendChild(s); }
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      var open = results.length > 0;
      list.hidden = !open; name.setAttribute("aria-expanded", open ? "true" : "false");
      if (active >= 0) { name.setAttribute("aria-activedescendant", "donor-opt-" + active); } else { name.removeAttribute("aria-activedescendant"); }
    }
    function choose(i) {
      var d = results[i];
      name.value = d.name; donorId.value = d.id;
      phone.value = d.phone || "";
      var kind = $("#donor_kind"); if (kind) { kind.value = d.kind; }
      ["tax_code", "address"].forEach(function (k) { var el = $("#donor_" + k); if (el) { el.value = d[k] || ""; } });
      picked.textContent = form.getAttribute("data-msg-picked") || "✔";
      close();
      $("#amount").focus();
    }
    var search = debounce(function () {
      var q = name.value.trim();
      if (q.length < 2) { results = []; render(); return; }
      if (searching) { searching.abort(); }
      searching = new AbortController();
      getJSON(form.getAttribute("data-donors-url") + "?q=" + encodeURIComponent(q), searching.signal)
        .then(function (data) {
          // Late answers are dropped once the cashier has moved on (Escape, Tab) or typed further.
          if (name.value.trim() === q && document.activeElement === name && !closed) { results = data; active = -1; render(); }
        })
        .catch(function () {});
    }, 150);
    var closed = false;
    name.addEventListener("input", function () {
      closed = false;
      if (donorId.value) { donorId.value = ""; picked.textContent = ""; }
      search();
    });
    name.addEventListener("keydown", function (ev) {
      if (list.hidden || !results.length) { return; }
      if (ev.key === "ArrowDown") { ev.preventDefault(); active = (active + 1) % results.length; render(); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); active = active <= 0 ? results.length - 1 : active - 1; render(); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); choose(active); }
      else if (ev.key === "Escape") { ev.preventDefault(); close(); }
    });
    name.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { closed = true; close(); } });
    name.addEventListener("blur", function () { setTimeout(close, 150); });

    /* What the chosen way of giving asks for: bank account and reference, or the goods; the amount's label. */
    function showMethod() {
      $$("[data-show-method]", form).forEach(function (el) {
        el.hidden = el.getAttribute("data-show-method").split(" ").indexOf(method.value) < 0;
      });
    }
    method.addEventListener("change", showMethod); showMethod();

    /* The bank accounts follow the receiving unit. */
    var unit = $("#unit"), account = $("#account");
    if (unit && account) {
      unit.addEventListener("change", function () {
        getJSON(account.getAttribute("data-accounts-url") + "?unit=" + encodeURIComponent(unit.value))
          .then(function (accounts) {
            account.innerHTML = "";
            if (accounts.length !== 1) {
              var first = document.createElement("option");
              first.value = "";
              first.textContent = account.getAttribute(accounts.length ? "data-msg-choose" : "data-msg-none");
              account.appendChild(first);
            }
            accounts.forEach(function (a) {
              var option = document.createElement("option");
              option.value = a.id;
              option.textContent = a.name + (a.account_number ? " · " + a.account_number : "");
              account.appendChild(option);
            });
          })
          .catch(function () { /* the server checks the account again */ });
      });
    }

    /* Same donor, same amount, same day: ask before recording it again. */
    var box = $("#duplicate-check"), boxList = $("#duplicate-list"), confirmField = $("#confirm_duplicate"), sending = false;
    $("#duplicate-confirm").addEventListener("click", function () { confirmField.value = "1"; box.hidden = true; send(); });
    $("#duplicate-cancel").addEventListener("click", function () { box.hidden = true; $("#amount").focus(); });
    function send() {
      if (sending) { return; }
      sending = true;
      $("#submit-donation").disabled = true;
      form.submit();
    }
    form.addEventListener("submit", function (ev) {
      // An answer to a question the server asked (a duplicate, which donor) is sent as it is: the server checks again.
      if (ev.submitter && (ev.submitter.name === "confirm_duplicate" || ev.submitter.hasAttribute("data-answer"))) { return; }
      ev.preventDefault();
      if (sending) { return; }
      if (confirmField.value === "1") { send(); return; }
      var params = new URLSearchParams({ amount: digits($("#amount").value), received_on: $("#received_on").value,
                                         donor_id: donorId.value, name: name.value.trim(), phone: phone.value.trim() });
      getJSON(form.getAttribute("data-duplicates-url") + "?" + params.toString())
        .then(function (found) {
          if (!found.length) { send(); return; }
          boxList.innerHTML = "";
          found.forEach(function (d) {
            var li = document.createElement("li"), a = document.createElement("a");
            a.href = d.url; a.target = "_blank"; a.textContent = d.code;
            li.appendChild(a);
            li.appendChild(document.createTextNode(" · " + d.donor + " · " + groupThousands(String(d.amount)) + " đ"));
            boxList.appendChild(li);
          });
          box.hidden = false;
          $("#duplicate-confirm").focus();
        })
        .catch(function () { send(); /* the server checks again */ });
    });
  }

  /* The round form: its rules editor re-drawn by the server after an edit, checked as it is typed. */
  var roundForm = $("#round-form");
  if (roundForm) { rulesEditor(roundForm); }

  function rulesEditor(form) {
    var rules = $("#rules"), status = $("#rules-status"), checking = null;
    function post(url, extra, signal) {
      var data = new FormData(form);
      Object.keys(extra || {}).forEach(function (k) { data.set(k, extra[k]); });
      return fetch(url, { method: "POST", body: data, credentials: "same-origin", signal: signal,
                          headers: { Accept: "application/json, text/html" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r; });
    }
    function redraw(action, focusName) {
      post(form.getAttribute("data-editor-url"), { edit: action }).then(function (r) { return r.text(); }).then(function (html) {
        var editor = $("#rules-editor", form), box = document.createElement("div");
        box.innerHTML = html;
        var fresh = $("#rules-editor", box);
        if (!editor || !fresh) { return; }
        editor.parentNode.replaceChild(fresh, editor);
        bindMoney(fresh);
        var target = focusName && form.querySelector("[name='" + focusName + "']");
        if (target) { target.focus(); }
        check();
      }).catch(function () {  /* the page without its script: the server draws the whole form */
        var edit = document.createElement("input");
        edit.type = "hidden"; edit.name = "edit"; edit.value = action;
        form.appendChild(edit); form.submit();
      });
    }
    var check = debounce(function () {
      if (checking) { checking.abort(); }
      checking = new AbortController();
      post(form.getAttribute("data-check-url"), {}, checking.signal).then(function (r) { return r.json(); }).then(function (answer) {
        $$("[data-error-for]", form).forEach(function (p) {
          var name = p.getAttribute("data-error-for"), message = answer.errors[name] || "";
          p.textContent = message; p.hidden = !message;
          $$("[name='" + name + "']", form).forEach(function (field) {
            if (message) { field.setAttribute("aria-invalid", "true"); field.setAttribute("aria-describedby", p.id); }
            else { field.removeAttribute("aria-invalid"); field.removeAttribute("aria-describedby"); }
          });
        });
        if (rules && document.activeElement !== rules) { rules.value = answer.rules; status.textContent = ""; }
      }).catch(function () { /* aborted or offline: the server checks on submit */ });
    }, 300);
    form.addEventListener("click", function (ev) {
      var button = ev.target.closest ? ev.target.closest("#rules-editor button[name=edit]") : null;
      if (!button) { return; }
      ev.preventDefault();
      redraw(button.value);
    });
    form.addEventListener("change", function (ev) {
      if (ev.target.closest && ev.target.closest("#rules-editor")) {
        if (ev.target.hasAttribute("data-refresh")) { redraw("refresh", ev.target.name); } else { check(); }
      }
    });
    form.addEventListener("input", function (ev) {
      if (ev.target.closest && ev.target.closest("#rules-editor")) { check(); }
    });
    if (rules) {
      rules.addEventListener("input", debounce(function () {
        try { JSON.parse(rules.value); status.textContent = rules.getAttribute("data-msg-ok") || ""; rules.removeAttribute("aria-invalid"); }
        catch (e) { status.textContent = (rules.getAttribute("data-msg-bad") || "JSON: ") + e.message; rules.setAttribute("aria-invalid", "true"); }
      }, 200));
    }
  }

  /* The matching queue: arrows move between lines, Enter on a line confirms its suggestion. */
  var queue = $("#queue");
  if (queue) { matchingQueue(queue); }

  function matchingQueue(queue) {
    var items = $$(".queue-item", queue);
    queue.addEventListener("keydown", function (ev) {
      var item = ev.target;
      if (!item.classList || !item.classList.contains("queue-item")) { return; } /* typing in a field of the line */
      var i = items.indexOf(item);
      if (ev.key === "Enter") {
        var confirmForm = $(".confirm-form", item);
        if (confirmForm) { ev.preventDefault(); confirmForm.requestSubmit(); }
      } else if (ev.key === "ArrowDown" && i < items.length - 1) { ev.preventDefault(); items[i + 1].focus(); }
      else if (ev.key === "ArrowUp" && i > 0) { ev.preventDefault(); items[i - 1].focus(); }
    });
    if (items.length && !$(".flash-error")) { items[0].focus(); }
    $$("input[data-donor-search]", queue).forEach(function (input) { donorPicker(input, queue.getAttribute("data-donors-url")); });
  }

  /* A donor search (the donation form's endpoint) filling a form's hidden donor_id; its button waits for a choice. */
  function donorPicker(input, url) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var donorId = input.form.querySelector("input[name=donor_id]"), button = input.form.querySelector("button[type=submit]");
    var results = [], active = -1, searching = null;
    button.disabled = true;
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
    function render() {
      list.innerHTML = "";
      results.forEach(function (d, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i; li.setAttribute("role", "option"); li.setAttribute("aria-selected", i === active ? "true" : "false");
        li.textContent = d.name;
        var extra = [d.phone, d.tax_code, d.address].filter(Boolean).join(" · ");
        if (extra) { var s = document.createElement("small"); s.textContent = extra; li.appendChild(s); }
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = !results.length; input.setAttribute("aria-expanded", results.length ? "true" : "false");
      if (active >= 0) { input.setAttribute("aria-activedescendant", list.id + "-" + active); } else { input.removeAttribute("aria-activedescendant"); }
    }
    function choose(i) {
      var d = results[i];
      input.value = d.name; donorId.value = d.id; button.disabled = false;
      close(); button.focus();
    }
    var search = debounce(function () {
      var q = input.value.trim();
      if (q.length < 2) { results = []; render(); return; }
      if (searching) { searching.abort(); }
      searching = new AbortController();
      getJSON(url + "?q=" + encodeURIComponent(q), searching.signal)
        .then(function (data) { if (input.value.trim() === q && document.activeElement === input) { results = data; active = -1; render(); } })
        .catch(function () {});
    }, 150);
    input.addEventListener("input", function () { donorId.value = ""; button.disabled = true; search(); });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { close(); return; }
      if (list.hidden || !results.length) { if (ev.key === "Enter" && !donorId.value) { ev.preventDefault(); } return; }
      if (ev.key === "ArrowDown") { ev.preventDefault(); active = (active + 1) % results.length; render(); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); active = active <= 0 ? results.length - 1 : active - 1; render(); }
      else if (ev.key === "Enter") { ev.preventDefault(); choose(active >= 0 ? active : 0); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  /* A select whose choice decides which parts of its form apply: elements marked data-show-<name>="values …". */
  $$("select[data-toggles]").forEach(function (select) {
    var attr = "data-show-" + select.getAttribute("data-toggles");
    function apply() {
      $$("[" + attr + "]", select.form).forEach(function (el) {
        el.hidden = el.getAttribute(attr).split(" ").indexOf(select.value) < 0;
      });
    }
    select.addEventListener("change", apply); apply();
  });

  /* A job's page (/jobs/<id>): follow the job through the API and move the progress bar until it is over. */
  $$("[data-job-url]").forEach(function (card) {
    var bar = $("#job-progress", card), figure = $("#job-percent", card), state = $("#job-state", card);
    function show(job) {
      bar.value = job.progress.percent; bar.textContent = job.progress.percent + "%";
      figure.textContent = job.progress.percent;
      state.textContent = card.getAttribute("data-label-" + job.state) || job.state;
      card.setAttribute("data-state", job.state);
      $("#job-download", card).hidden = job.state !== "done";
      var error = $("#job-error", card);
      error.hidden = job.state !== "failed"; error.textContent = job.error || "";
      $("#job-note", card).hidden = job.state === "done" || job.state === "failed";
      return job.state === "queued" || job.state === "running";
    }
    function poll() {
      getJSON(card.getAttribute("data-job-url"))
        .then(function (job) { if (show(job)) { setTimeout(poll, 1500); } })
        .catch(function () { setTimeout(poll, 5000); });
    }
    var current = card.getAttribute("data-state");
    if (current === "queued" || current === "running") { setTimeout(poll, 1000); }
  });
})();
