/*! aisle.js: the Aisle storefront script. One tag:
 *   <script src="https://EDGE/aisle.js" data-edge="https://EDGE" data-region="eu"
 *           [data-consent="required"] [data-shop="ID"] [data-currency="EUR"] async></script>
 * (data-edge defaults to the script's own origin.) Markup it reads:
 *   data-aisle-item="ID" [data-aisle-title="…"]  a product: a view once it is half visible
 *                                                 (once per page and item); the title feeds
 *                                                 the reasons ("Because you viewed …")
 *   data-aisle-click[="ID"]                       a click (ID, or the enclosing item)
 *   data-aisle-add-to-cart="ID", data-aisle-remove-from-cart="ID",
 *   data-aisle-purchase="ID1,ID2"                 those events on click
 *   <form data-aisle-search[="input name"]>       a search on submit
 *   <div data-aisle="for_you|similar|bought_together|trending|search|cart"
 *        data-item data-k data-title data-href-template="/p/{id}" data-query data-category>
 *                                                 a widget, rendered when scrolled into view;
 *                                                 it carries data-aisle-state (loading, ready,
 *                                                 empty, error) and fires "aisle:render"
 *   <div data-aisle-chat [data-item] [data-title] [data-href-template]>  the assistant
 *   <div data-aisle-summary data-item="ID" [data-title]>               "customers say" (verdict, pros, cons)
 * API (window.aisle): track(type, {item, query}) → whether the event was kept;
 *   consent(true|false); recommend(placement, {item, query, k, filters}) → Promise of the
 *   edge's answer (rejected on failure); refresh() re-renders the widgets shown.
 * Privacy: the session lives in this tab's sessionStorage only (key "aisle": the last 50
 * events, strings cut to 512 bytes), no cookies (requests omit credentials), no
 * localStorage, no visitor id. data-consent="required": nothing is stored and no event is
 * sent until aisle.consent(true); widgets still render from requests without events (they
 * tell the edge no more than loading this script did). consent(false) clears the session.
 * Global Privacy Control or Do Not Track: events are never stored, whatever consent says;
 * widgets are still served, from an empty session. The chat sends what the visitor types,
 * the page's item and the session's recent item ids (none without consent).
 * Server text is only ever set with textContent, never parsed as HTML. Failures render
 * nothing new and are logged once each to console.warn; nothing is thrown into the page.
 */
(() => {
  "use strict";
  const w = window, d = document;
  if (w.aisle && w.aisle.version) return; // the tag is on the page twice

  const KEY = "aisle", MAX_EVENTS = 50, MAX_BYTES = 512, MAX_MESSAGE = 4000;
  const TYPES = ["view", "click", "add_to_cart", "remove_from_cart", "purchase", "search"];
  const PLACEMENTS = ["for_you", "similar", "bought_together", "trending", "search", "cart"];
  const STATE = "data-aisle-state";

  const attr = (el, name) => (el && el.getAttribute && el.getAttribute(name)) || "";
  const tag = d.currentScript || d.querySelector("script[data-edge],script[src*='aisle.js']");
  let origin = location.origin;
  try { if (tag && tag.src) origin = new URL(tag.src, location.href).origin; } catch (e) { /* keep the page's */ }
  const cfg = {
    edge: (attr(tag, "data-edge") || origin).replace(/\/+$/, ""),
    region: attr(tag, "data-region"),
    shop: attr(tag, "data-shop"),
    currency: attr(tag, "data-currency"),
    consentRequired: attr(tag, "data-consent") === "required",
  };
  const nav = navigator;
  // Global Privacy Control or Do Not Track: never store events.
  const optedOut = nav.globalPrivacyControl === true || nav.doNotTrack === "1" || w.doNotTrack === "1";

  // Problems are logged once each, to console.warn; nothing is thrown into the page.
  const warned = new Set();
  const warn = (what, err) => {
    if (warned.has(what)) return;
    warned.add(what);
    try { console.warn("aisle: " + what + (err ? ": " + (err.message || err) : "")); } catch (e) { /* no console */ }
  };
  const safe = (what, fn) => function () {
    try { return fn.apply(this, arguments); } catch (err) { warn(what, err); }
  };

  // cut returns s as a string of at most max UTF-8 bytes, without lone surrogates
  // (the edge refuses invalid UTF-8).
  const cut = (s, max) => {
    s = s == null ? "" : String(s);
    max = max || MAX_BYTES;
    if (s.length * 3 <= max && !/[\ud800-\udfff]/.test(s)) return s;
    let out = "", n = 0;
    for (const ch of s) {
      const c = ch.codePointAt(0);
      if (c >= 0xd800 && c <= 0xdfff) continue;
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (n > max) break;
      out += ch;
    }
    return out;
  };

  // ---- session (sessionStorage, one key) ----
  let store = null;
  try { store = w.sessionStorage; } catch (e) { /* storage blocked: the session lives in memory */ }
  const stored = () => { try { return store ? store.getItem(KEY) : null; } catch (e) { return null; } };
  // With consent required, a stored session is the record that consent was given.
  let consented = !cfg.consentRequired || stored() !== null;
  const mayStore = () => consented && !optedOut;
  const titles = new Map(); // item id → title, from the page and earlier answers
  const remember = (id, title) => {
    if (typeof id !== "string" || !id || typeof title !== "string" || !title) return;
    titles.delete(id);
    titles.set(id, cut(title));
    if (titles.size > 500) titles.delete(titles.keys().next().value);
  };
  const okEvent = (e) => e && TYPES.includes(e.type) && typeof e.time === "number" &&
    (e.type === "search" ? typeof e.query === "string" && e.query : typeof e.item === "string" && e.item);
  let events = [];
  if (mayStore()) {
    try {
      const s = JSON.parse(stored() || "{}");
      events = (Array.isArray(s.e) ? s.e : []).filter(okEvent).slice(-MAX_EVENTS)
        .map((e) => e.type === "search" ? { type: e.type, query: cut(e.query), time: e.time } : { type: e.type, item: cut(e.item), time: e.time });
      for (const id in s.t || {}) remember(id, s.t[id]);
    } catch (e) { events = []; }
  }
  const save = () => {
    if (!mayStore() || !store) return;
    const t = {};
    for (const e of events) if (e.item && titles.has(e.item)) t[e.item] = titles.get(e.item);
    try { store.setItem(KEY, JSON.stringify({ e: events, t })); } catch (err) { warn("cannot store the session", err); }
  };

  // track records one event; it returns whether the event was kept.
  const track = (type, o) => {
    o = o || {};
    if (!TYPES.includes(type)) { warn("unknown event type " + JSON.stringify(String(type))); return false; }
    const e = { type, time: Date.now() };
    if (type === "search") {
      e.query = cut(String(o.query == null ? "" : o.query).trim());
      if (!e.query) return false;
    } else {
      e.item = cut(String(o.item == null ? "" : o.item).trim());
      if (!e.item) return false;
    }
    if (!mayStore()) return false;
    events.push(e);
    if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
    save();
    return true;
  };
  const session = () => (mayStore() ? events.slice() : []);
  const recentItems = () => {
    const ids = [];
    for (const e of session().reverse()) if (e.item && !ids.includes(e.item) && ids.push(e.item) >= 20) break;
    return ids.reverse();
  };

  // ---- edge requests ----
  // The body goes as text/plain (a CORS "simple" request): no preflight round trip,
  // and the edge reads the JSON whatever the Content-Type. No credentials are sent.
  const post = async (path, body) => {
    const r = await fetch(cfg.edge + path, { method: "POST", body: JSON.stringify(body), credentials: "omit", mode: "cors" });
    if (!r.ok) throw new Error(path + " answered HTTP " + r.status);
    const j = await r.json();
    if (!j || typeof j !== "object") throw new Error(path + " answered no JSON object");
    return j;
  };
  const withShop = (body) => {
    if (cfg.shop) body.shop = cfg.shop;
    return body;
  };

  const recommend = (placement, o) => {
    try {
      o = o || {};
      if (!PLACEMENTS.includes(placement)) throw new Error("unknown placement " + JSON.stringify(String(placement)));
      const body = withShop({ placement });
      if (cfg.region) body.region = cfg.region;
      if (o.item) body.item = cut(o.item);
      if (o.query) body.query = cut(o.query);
      const k = Math.floor(Number(o.k) || 0);
      if (k > 0) body.k = Math.min(k, 100);
      if (o.filters && typeof o.filters === "object") body.filters = o.filters;
      const ev = session(); // read now: the latest click is already in it
      if (ev.length) body.events = ev;
      return post("/v1/recommend", body).then((r) => {
        r.items = Array.isArray(r.items) ? r.items.filter((x) => x && typeof x.id === "string" && x.id) : [];
        for (const x of r.items) remember(x.id, x.title);
        return r;
      });
    } catch (err) {
      return Promise.reject(err);
    }
  };

  // ---- rendering (createElement + textContent only) ----
  let uid = 0;
  const make = (name, cls, text) => {
    const el = d.createElement(name);
    if (cls) el.className = cls;
    if (text != null) el.textContent = text;
    return el;
  };
  const price = (p) => {
    if (typeof p !== "number" || !(p > 0) || !isFinite(p)) return "";
    if (cfg.currency) {
      try { return new Intl.NumberFormat(undefined, { style: "currency", currency: cfg.currency }).format(p); } catch (e) { /* unknown code */ }
    }
    return p.toFixed(2);
  };
  const reason = (x) => {
    const src = x.source ? titles.get(x.source) : "";
    if (x.reason === "viewed" && x.source === x.id) return "You looked at this recently";
    switch (x.reason) {
      case "viewed": return src ? "Because you viewed " + src : "Because of what you viewed";
      case "bought_with": return src ? "Often bought with " + src : "Often bought together";
      case "similar_to": return src ? "Similar to " + src : "Similar to what you viewed";
      case "trending": return "Trending now";
      case "matches_query": return "Matches your search";
      case "popular_in_segment": return "Popular with shoppers like you";
    }
    return "";
  };
  // card is one recommended item: a link (with a template) or a button, named by its title.
  const card = (x, template) => {
    const li = make("li", "aisle-item");
    li.setAttribute("role", "listitem");
    const name = typeof x.title === "string" && x.title ? cut(x.title) : x.id;
    let a;
    if (template) {
      a = make("a", "aisle-link", name);
      a.href = template.split("{id}").join(encodeURIComponent(x.id));
    } else {
      a = make("button", "aisle-link", name);
      a.type = "button";
    }
    a.setAttribute("data-aisle-rec", x.id);
    li.append(a);
    const p = price(x.price);
    if (p) li.append(make("span", "aisle-price", p));
    const why = x.reason ? reason(x) : "";
    if (why) li.append(make("span", "aisle-reason", why));
    return li;
  };
  const list = (items, template, labelledBy) => {
    const ul = make("ul", "aisle-list");
    ul.setAttribute("role", "list");
    if (labelledBy) ul.setAttribute("aria-labelledby", labelledBy);
    for (const x of items) ul.append(card(x, template));
    return ul;
  };

  // ---- widgets ----
  const widgets = new WeakMap(); // element → {seq, on}
  const IO = w.IntersectionObserver;
  let lastQuery = "";
  const searchQuery = () => {
    if (lastQuery) return lastQuery;
    try { const q = new URLSearchParams(location.search).get("q"); if (q) return q; } catch (e) { /* no query */ }
    for (let i = events.length - 1; i >= 0; i--) if (events[i].query) return events[i].query;
    return "";
  };
  const render = async (el) => {
    const st = widgets.get(el);
    if (!st) return;
    st.on = true;
    const seq = ++st.seq;
    const placement = attr(el, "data-aisle");
    const o = { item: attr(el, "data-item"), k: attr(el, "data-k") };
    if (placement === "search") o.query = attr(el, "data-query") || searchQuery();
    const cat = attr(el, "data-category");
    if (cat) o.filters = { categories: [cat] };
    if (!PLACEMENTS.includes(placement) || (!o.item && (placement === "similar" || placement === "bought_together")) ||
      (!o.query && placement === "search")) {
      if (placement !== "search") warn("widget data-aisle=" + JSON.stringify(placement) + " needs a known placement and, for similar and bought_together, data-item");
      el.setAttribute(STATE, "empty");
      return;
    }
    el.setAttribute(STATE, "loading");
    el.setAttribute("aria-busy", "true");
    try {
      const r = await recommend(placement, o);
      if (seq !== st.seq) return; // a newer render is on its way
      const title = attr(el, "data-title");
      const parts = [];
      let hid = "";
      if (title && r.items.length) {
        const h = make("h2", "aisle-heading", title);
        h.id = hid = "aisle-h" + ++uid;
        parts.push(h);
      }
      if (r.items.length) parts.push(list(r.items, attr(el, "data-href-template"), hid));
      el.replaceChildren(...parts);
      el.setAttribute(STATE, r.items.length ? "ready" : "empty");
      el.dispatchEvent(new CustomEvent("aisle:render", { bubbles: true, detail: { placement, items: r.items.length } }));
    } catch (err) {
      if (seq !== st.seq) return;
      // Nothing new is rendered; what was shown before stays.
      el.setAttribute(STATE, "error");
      warn("recommendations failed", err);
    } finally {
      if (seq === st.seq) el.removeAttribute("aria-busy");
    }
  };
  const lazy = IO ? new IO(safe("widget", (entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      lazy.unobserve(e.target);
      render(e.target);
    }
  }), { rootMargin: "200px" }) : null;
  const addWidget = (el) => {
    if (widgets.has(el)) return;
    widgets.set(el, { seq: 0, on: false });
    if (lazy) lazy.observe(el);
    else render(el);
  };
  // refresh re-renders the widgets already shown (the others render when visible).
  const refresh = (only, except) => {
    for (const el of d.querySelectorAll("[data-aisle]")) {
      const st = widgets.get(el);
      if (st && st.on && el !== except && (!only || attr(el, "data-aisle") === only)) render(el);
    }
  };

  // ---- views ----
  const seen = new Set();
  const onView = safe("view", (entries) => {
    for (const e of entries) {
      const r = e.rootBounds;
      if (!e.isIntersecting || (e.intersectionRatio < 0.5 && !(r && e.intersectionRect.height >= r.height / 2))) continue;
      viewer.unobserve(e.target);
      const id = attr(e.target, "data-aisle-item");
      if (!seen.has(id) && track("view", { item: id })) seen.add(id);
    }
  });
  const viewer = IO ? new IO(onView, { threshold: [0.1, 0.25, 0.5, 0.75, 1] }) : null;
  const addItem = (el) => {
    const id = attr(el, "data-aisle-item");
    remember(id, attr(el, "data-aisle-title"));
    if (viewer && !seen.has(id)) viewer.observe(el);
  };
  // inView is the observer's rule, measured now: half the element, or half the viewport.
  const inView = (el) => {
    const r = el.getBoundingClientRect(), vh = w.innerHeight;
    const h = Math.min(r.bottom, vh) - Math.max(r.top, 0), wd = Math.min(r.right, w.innerWidth) - Math.max(r.left, 0);
    return h > 0 && wd > 0 && (h * wd >= r.width * r.height / 2 || h >= vh / 2);
  };

  // ---- chat ----
  const chats = new WeakSet();
  const addChat = (box) => {
    if (chats.has(box)) return;
    chats.add(box);
    const id = "aisle-chat" + ++uid;
    const heading = make("h2", "aisle-heading", attr(box, "data-title") || "Ask about our products");
    heading.id = id + "h";
    const log = make("div", "aisle-chat-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-labelledby", heading.id);
    const form = make("form", "aisle-chat-form");
    const label = make("label", "aisle-chat-label", attr(box, "data-label") || "Your question");
    label.htmlFor = id;
    const input = make("input", "aisle-chat-input");
    input.id = id;
    input.name = "message";
    input.type = "text";
    input.autocomplete = "off";
    input.maxLength = 1000;
    const send = make("button", "aisle-chat-send", "Send");
    send.type = "submit";
    form.append(label, input, send);
    box.replaceChildren(heading, log, form);
    const history = [];
    const say = (role, text) => {
      const turn = make("div", "aisle-turn aisle-" + role);
      turn.append(make("span", "aisle-who", role === "user" ? "You" : "Assistant"), make("p", "aisle-text", text));
      log.append(turn);
      return turn;
    };
    form.addEventListener("submit", safe("chat", async (ev) => {
      ev.preventDefault();
      const message = cut(input.value.trim(), MAX_MESSAGE);
      if (!message || form.getAttribute("aria-busy")) return;
      input.value = "";
      say("user", message);
      form.setAttribute("aria-busy", "true");
      const body = withShop({ message });
      if (history.length) body.history = history.slice(-8);
      const items = recentItems();
      if (items.length) body.items = items;
      const item = attr(box, "data-item");
      if (item) body.item = item;
      // The edge takes at most 16 KiB: drop the oldest turns, then the oldest ids.
      const enc = new TextEncoder();
      while (enc.encode(JSON.stringify(body)).length > 15000) {
        const list = body.history && body.history.length ? body.history : body.items;
        if (!list || !list.length) break;
        list.shift();
      }
      try {
        const r = await post("/v1/chat", body);
        const answer = typeof r.answer === "string" && r.answer ? r.answer : "Sorry, I have no answer to that.";
        history.push({ role: "user", text: message }, { role: "assistant", text: cut(answer, MAX_MESSAGE) });
        const turn = say("assistant", answer);
        if (r.degraded) turn.classList.add("aisle-degraded");
        const cards = (Array.isArray(r.items) ? r.items : []).slice(0, 10)
          .map((x) => (typeof x === "string" ? { id: x, title: titles.get(x) } : x))
          .filter((x) => x && typeof x.id === "string" && x.id);
        for (const x of cards) remember(x.id, x.title);
        if (cards.length) turn.append(list(cards.map((x) => ({ id: x.id, title: x.title, price: x.price })), attr(box, "data-href-template")));
        const sources = (Array.isArray(r.sources) ? r.sources : []).slice(0, 10).map((s) =>
          typeof s === "string" ? s : s && typeof s === "object" ? [s.kind || s.type, s.title || s.name || s.id].filter((v) => typeof v === "string" && v).join(" ") : "")
          .filter(Boolean);
        if (sources.length) {
          const src = make("div", "aisle-sources");
          src.append(make("span", "aisle-sources-label", "Sources"));
          const ul = make("ul", "aisle-list");
          ul.setAttribute("role", "list");
          for (const s of sources) {
            const li = make("li", "aisle-source", cut(s));
            li.setAttribute("role", "listitem");
            ul.append(li);
          }
          src.append(ul);
          turn.append(src);
        }
      } catch (err) {
        warn("chat failed", err);
        say("assistant", "Sorry, the assistant is unavailable right now.").classList.add("aisle-degraded");
      } finally {
        form.removeAttribute("aria-busy");
        log.scrollTop = log.scrollHeight;
      }
    }));
  };

  // ---- "customers say" ----
  const summaries = new WeakSet();
  const addSummary = (box) => {
    const item = attr(box, "data-item");
    if (summaries.has(box) || !item) return;
    summaries.add(box);
    post("/v1/summarize", withShop({ item })).then((s) => {
      if (s.degraded || !(s.reviews > 0)) return;
      const parts = [make("h2", "aisle-heading", attr(box, "data-title") || "Customers say")];
      if (s.verdict) parts.push(make("p", "aisle-verdict", String(s.verdict)));
      for (const [key, name] of [["pros", "Pros"], ["cons", "Cons"]]) {
        const points = Array.isArray(s[key]) ? s[key] : [];
        if (!points.length) continue;
        parts.push(make("h3", "aisle-summary-" + key, name));
        const ul = make("ul", "aisle-points");
        ul.setAttribute("role", "list");
        for (const p of points) {
          const n = Array.isArray(p.reviews) ? p.reviews.length : 0;
          const li = make("li", "aisle-point", String(p.text || ""));
          li.setAttribute("role", "listitem");
          if (n) li.append(make("span", "aisle-support", " (" + n + (n === 1 ? " review)" : " reviews)")));
          ul.append(li);
        }
        parts.push(ul);
      }
      box.replaceChildren(...parts);
      box.setAttribute("data-aisle-state", "ready");
    }).catch((e) => warn("summary", e));
  };

  // ---- page markup ----
  const scan = (root) => {
    if (!root || root.nodeType !== 1) return;
    const each = (sel, fn) => {
      if (root.matches(sel)) fn(root);
      for (const el of root.querySelectorAll(sel)) fn(el);
    };
    each("[data-aisle-item]", addItem);
    each("[data-aisle]", addWidget);
    each("[data-aisle-chat]", addChat);
    each("[data-aisle-summary]", addSummary);
  };
  const ids = (el, name) => attr(el, name).split(",").map((s) => s.trim()).filter(Boolean);
  // Clicks are recorded in the capture phase, before the page's own handlers run
  // (and before any navigation), so the next request already carries them.
  d.addEventListener("click", safe("click", (ev) => {
    const t = ev.target && ev.target.closest ? ev.target : null;
    if (!t) return;
    const rec = t.closest("[data-aisle-rec]");
    if (rec) {
      if (track("click", { item: attr(rec, "data-aisle-rec") })) refresh("for_you", rec.closest("[data-aisle]"));
      return;
    }
    let el = t.closest("[data-aisle-click]");
    if (el) track("click", { item: attr(el, "data-aisle-click") || attr(el.closest("[data-aisle-item]"), "data-aisle-item") });
    let cart = false;
    for (const [name, type] of [["data-aisle-add-to-cart", "add_to_cart"], ["data-aisle-remove-from-cart", "remove_from_cart"], ["data-aisle-purchase", "purchase"]]) {
      el = t.closest("[" + name + "]");
      if (el) for (const id of ids(el, name)) cart = track(type, { item: id }) || cart;
    }
    if (cart) refresh("cart");
  }), true);
  d.addEventListener("submit", safe("search", (ev) => {
    const f = ev.target;
    if (!f || !f.matches || !f.matches("[data-aisle-search]")) return;
    const name = attr(f, "data-aisle-search");
    const input = (name && f.elements[name]) || f.querySelector("input[type=search],input[name=q],input[type=text],input:not([type])");
    const q = input && typeof input.value === "string" ? input.value.trim() : "";
    if (!q) return;
    lastQuery = cut(q);
    track("search", { query: q });
    // A page that handles the search itself (no navigation) gets fresh results.
    setTimeout(() => { if (ev.defaultPrevented) refresh("search"); }, 0);
  }), true);

  const consent = (yes) => {
    if (yes) {
      if (consented) return;
      consented = true;
      save(); // from now on the session, and so the consent, lasts for the tab
      // Items on screen now count as viewed now, so the refresh below already carries them.
      for (const el of d.querySelectorAll("[data-aisle-item]")) {
        const id = attr(el, "data-aisle-item");
        if (!seen.has(id) && inView(el) && track("view", { item: id })) seen.add(id);
        else addItem(el);
      }
    } else {
      consented = false;
      events = [];
      seen.clear();
      try { if (store) store.removeItem(KEY); } catch (e) { /* nothing stored */ }
    }
    refresh();
  };

  const start = safe("start", () => {
    scan(d.documentElement);
    if (w.MutationObserver) {
      new MutationObserver(safe("scan", (ms) => {
        for (const m of ms) for (const n of m.addedNodes) scan(n);
      })).observe(d.documentElement, { childList: true, subtree: true });
    }
    d.dispatchEvent(new CustomEvent("aisle:ready"));
  });

  w.aisle = Object.freeze({
    version: "1",
    track: safe("track", (type, o) => track(type, o)),
    consent: safe("consent", (yes) => consent(!!yes)),
    recommend,
    refresh: safe("refresh", () => refresh()),
  });
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", start);
  else start();
})();
