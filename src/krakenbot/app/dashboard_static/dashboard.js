// krakenbot dashboard: wiring only. The daemon pushes snapshots (server-sent events); tables
// are Tabulator, the chart is uPlot (both shipped in vendor/). Text goes in as text, never
// as HTML. Controls POST to /control/<action> with the page's CSRF value.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const destructive = new Set(document.querySelector('meta[name="destructive"]').content.split(" "));
  const $ = (id) => document.getElementById(id);
  let last = null;  // the newest snapshot
  let points = [];  // [[t, realized], ...] from the "equity" topic

  function setText(id, value) {
    const el = $(id);
    if (el) el.textContent = value === null || value === undefined || value === "" ? "–" : String(value);
  }

  function mark(id, good) {
    const el = $(id);
    el.classList.toggle("good", good === true);
    el.classList.toggle("bad", good === false);
  }

  // ---------------------------------------------------------------- tables (Tabulator)
  const text = { formatter: "plaintext", headerSort: true };
  function table(id, columns, index) {
    const t = new Tabulator("#" + id, {
      data: [],
      index: index,
      layout: "fitDataStretch",
      maxHeight: "260px",
      placeholder: "none",
      columns: columns.map(([field, title]) => Object.assign({ field, title }, text)),
    });
    t.ready = false;
    t.pending = null;
    t.on("tableBuilt", () => {
      t.ready = true;
      if (t.pending) t.replaceData(t.pending);
    });
    return t;
  }
  function fill(t, rows) {
    if (t.ready) t.replaceData(rows); else t.pending = rows;
  }
  const tables = {
    books: table("books", [["pair", "pair"], ["bid", "bid"], ["bid_qty", "bid qty"], ["ask", "ask"],
      ["ask_qty", "ask qty"], ["verified", "verified"], ["age_s", "age s"]], "pair"),
    positions: table("positions", [["pair", "pair"], ["qty", "quantity"], ["avg_entry", "avg entry"],
      ["mark", "mark"], ["unrealized_pnl", "unrealized PnL"]], "pair"),
    orders: table("orders", [["created", "created (UTC)"], ["order", "order"], ["pair", "pair"],
      ["side", "side"], ["type", "type"], ["price", "price"], ["volume", "volume"],
      ["filled", "filled"], ["status", "status"], ["tag", "tag"]], "order"),
    fills: table("fills", [["time", "time (UTC)"], ["pair", "pair"], ["side", "side"],
      ["volume", "volume"], ["price", "price"], ["fee", "fee"], ["fee_asset", "fee asset"],
      ["liquidity", "liquidity"], ["order", "order"], ["trade_id", "trade id"]], "trade_id"),
    denials: table("denials", [["time", "time (UTC)"], ["detail", "denial"]], "id"),
    events: table("events", [["time", "time (UTC)"], ["kind", "kind"], ["detail", "detail"]], "id"),
  };

  // ---------------------------------------------------------------- chart (uPlot)
  let chart = null;
  function chartData() {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const now = last && last.equity_now;
    if (now && now[1] !== null && (xs.length === 0 || now[0] > xs[xs.length - 1])) {
      xs.push(now[0]);
      ys.push(Number(now[1]));
    }
    return [xs, ys];
  }
  function drawChart() {
    const box = $("equity");
    const width = Math.max(300, box.clientWidth - 8);
    if (!chart) {
      chart = new uPlot({
        width: width, height: 220,
        scales: {
          x: { time: true, range: (u, min, max) => (min === max ? [min - 60, max + 60] : [min, max]) },
          y: { range: (u, min, max) => (min === max ? [min - 1, max + 1] : [min, max]) },
        },
        series: [{}, { label: "PnL (quote)", stroke: "#2a6fdb", width: 2, fill: "rgba(42,111,219,0.08)" }],
        axes: [{}, { size: 70 }],
        legend: { live: false },
      }, chartData(), box);
      window.addEventListener("resize", () => chart.setSize({ width: Math.max(300, box.clientWidth - 8), height: 220 }));
    } else {
      chart.setData(chartData());
    }
  }

  // ---------------------------------------------------------------- snapshot
  function render(doc) {
    last = doc;
    const s = doc.status;
    setText("mode", s.mode);
    setText("verdict", s.status);
    mark("verdict", s.status === "healthy");
    setText("updated", "updated " + doc.now.replace("T", " ").replace(/\.\d+Z$/, " UTC"));
    const state = s.trading_state || "–";
    setText("trading-state", state);
    mark("trading-state", state === "ACTIVE" ? true : state === "HALTED" ? false : null);
    const why = doc.why || {};
    setText("trading-why", why.reason ? why.reason + (why.since ? " (since " + why.since + ")" : "") : "");
    const problems = $("problems");
    problems.replaceChildren(...(s.problems || []).map((p) => {
      const li = document.createElement("li");
      li.textContent = p;
      return li;
    }));
    setText("breaker", s.breaker_state);
    mark("breaker", s.breaker_state === "closed");
    setText("dms", s.dms_state ? s.dms_state + (s.dms_trigger_time ? ", fires at " + s.dms_trigger_time : "") : "none (paper)");
    setText("ws-public", s.ws_public);
    setText("ws-private", s.ws_private || "none (paper)");
    setText("book-verified", s.book_verified === null ? null : s.book_verified ? "yes" : "NO");
    setText("market-age", s.market_data_age_s === null ? "none yet" : s.market_data_age_s.toFixed(1) + " s old");
    setText("open-orders", s.open_orders);
    setText("realized-today", s.realized_today);
    setText("total-pnl", s.total_pnl);
    setText("unrealized-pnl", s.unrealized_pnl === null && Object.keys(s.position || {}).length ? "unknown (no price)" : s.unrealized_pnl);
    setText("daily-pnl", s.daily_pnl);
    setText("fees", s.fees);
    renderRates(doc.rates || []);
    fill(tables.books, doc.books.map((b) => Object.assign({}, b, { verified: b.verified ? "yes" : "NO" })));
    fill(tables.positions, doc.positions);
    fill(tables.orders, doc.orders);
    fill(tables.fills, doc.fills);
    fill(tables.denials, doc.denials);
    fill(tables.events, doc.events);
    drawChart();
    const stopping = s.stopping === true;
    document.querySelectorAll(".controls button").forEach((b) => { b.disabled = stopping; });
  }

  function renderRates(rates) {
    const box = $("rates");
    box.replaceChildren(...rates.map((r) => {
      const row = document.createElement("div");
      const label = document.createElement("span");
      label.textContent = r.counter + " " + r.level.toFixed(1) + " / " + r.limit;
      const meter = document.createElement("meter");
      meter.min = 0;
      meter.max = r.limit;
      meter.high = r.limit * 0.8;
      meter.value = r.level;
      row.append(label, meter);
      return row;
    }));
    if (!rates.length) box.textContent = "none (paper: no key)";
  }

  // ---------------------------------------------------------------- live stream
  function connect() {
    const source = new EventSource("/dashboard/events");
    // Not "live": beside the mode pill ("sim", "paper", "live") it would read as a second mode.
    source.addEventListener("open", () => { setText("link", "stream connected"); mark("link", true); });
    source.addEventListener("snapshot", (e) => render(JSON.parse(e.data)));
    source.addEventListener("equity", (e) => { points = JSON.parse(e.data).points; if (last) drawChart(); });
    source.addEventListener("error", () => {
      mark("link", false);
      if (last && last.status.stopping) {
        source.close();  // the daemon has stopped: nothing to reconnect to
        setText("link", "daemon stopped");
      } else {
        setText("link", source.readyState === EventSource.CLOSED ? "disconnected (reload to log in again)" : "reconnecting…");
      }
    });
  }

  // ---------------------------------------------------------------- controls
  const explain = {
    halt: "Trading state HALTED: no new orders at all (only cancels; protective stops stay).",
    "cancel-all": "Trading state HALTED and every open order of krakenbot cancelled, the protective stops too (orders that are not krakenbot's are left alone). The daemon keeps running; Resume or Pause puts the stops back.",
    flatten: "Trading state REDUCING, krakenbot's resting entries cancelled and every position sold now with an immediate-or-cancel order at the best bid (through the risk gate).",
    stop: "Stop the daemon: its open orders are cancelled, positions and their protective stops kept. Start it again with `python -m krakenbot run`.",
    resume: "Trading is HALTED. Resume lets the strategy place new orders again (ACTIVE).",
  };
  function confirmThen(action, title, then) {
    const dialog = $("confirm-dialog");
    setText("confirm-title", title);
    setText("confirm-text", explain[action] || "");
    dialog.returnValue = "";
    dialog.addEventListener("close", function once() {
      dialog.removeEventListener("close", once);
      if (dialog.returnValue === "yes") then();
    });
    dialog.showModal();
  }
  async function send(action) {
    const out = $("control-result");
    out.textContent = action + "…";
    try {
      const response = await fetch("/control/" + action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
        body: "{}",
      });
      const doc = await response.json();
      out.textContent = action + ": " + (doc.lines ? doc.lines.join("; ") : doc.error || response.status);
    } catch (err) {
      out.textContent = action + ": no answer (" + err + ")";
    }
  }
  document.querySelectorAll(".controls button[data-action]").forEach((button) => {
    button.addEventListener("click", () => {
      const action = button.dataset.action;
      const halted = last && last.status.trading_state === "HALTED";
      if (destructive.has(action) || (action === "resume" && halted)) {
        confirmThen(action, button.textContent + "?", () => send(action));
      } else {
        send(action);
      }
    });
  });

  connect();
})();
