// The Butler sandbox page: four chats side by side (stacked on a phone), fed by the server's event stream
// (a snapshot first, then every message, edit and button answer as it happens). People
// act through a small JSON API: send, press, jump in time, switch language, reset.
"use strict";

const COLORS = {
  101: "#d6453d", 102: "#8e5cd9", 201: "#2d9c5a", 202: "#1f8fb3", 203: "#7a8a1f", 901: "#c7791c",
};
const BOT_COLOR = "#2f6fd1";

const SAMPLES = ["tap-leak.jpg", "ceiling-stain.jpg", "corridor-light.jpg", "tap-fixed.jpg"];

const ICONS = {
  clip: '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M20.5 11.5l-8.1 8.1a5 5 0 01-7.1-7.1l8.5-8.5a3.3 3.3 0 014.7 4.7l-8.4 8.4a1.7 1.7 0 01-2.4-2.4l7.7-7.7"/></svg>',
  send: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M3.4 20.4l17.5-7.5a1 1 0 000-1.8L3.4 3.6a.9.9 0 00-1.3 1l1.6 6.1 9.3 1.3-9.3 1.3-1.6 6.1a.9.9 0 001.3 1z"/></svg>',
  reply: '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="currentColor" d="M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z"/></svg>',
};

const state = {
  snap: null,          // the last snapshot
  receivedAt: 0,       // Date.now() when its clock arrived
  nowMs: 0,            // sandbox time then
  chats: new Map(),    // chat id -> { info, messages: Map(id -> msg), el, acting, reply, attach }
  people: new Map(),   // user id -> persona
};

const $ = (sel, root = document) => root.querySelector(sel);
const s = (key, args = {}) => {
  let text = (state.snap && state.snap.strings[key]) || key;
  for (const [k, v] of Object.entries(args)) text = text.split(`{${k}}`).join(v);
  return text;
};

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "html") e.innerHTML = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function initials(name) {
  const words = name.trim().split(/\s+/);
  if (words.length > 1) return (words[0][0] + words[1][0]).toUpperCase();
  return Array.from(name.trim())[0] || "?";
}

function colorOf(from) {
  return from.bot ? BOT_COLOR : COLORS[from.id] || "#6b7b8c";
}

function avatar(from, small) {
  return el("div", {
    class: "avatar" + (small ? " small" : "") + (from.bot ? " bot" : ""),
    style: `background:${colorOf(from)}`,
    "aria-hidden": "true",
  }, from.bot ? "B" : initials(from.name));
}

function roleOf(id) {
  const p = state.people.get(id);
  if (!p) return "";
  if (p.role === "owner") return s("role_owner", { unit: p.unit || "" });
  return s("role_" + p.role);
}

// ---- time --------------------------------------------------------------------------

function sandboxNow() {
  return state.nowMs + (Date.now() - state.receivedAt);
}

function fmt(ms, opts) {
  const lang = state.snap && state.snap.lang === "zh-CN" ? "zh-CN" : "en-GB";
  return new Intl.DateTimeFormat(lang, { timeZone: state.snap.tz, ...opts }).format(new Date(ms));
}
const hhmm = (ms) => fmt(ms, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const day = (ms) => fmt(ms, { weekday: "short", day: "numeric", month: "short" });

function drawClock() {
  if (!state.snap) return;
  const now = sandboxNow();
  $("#clock-time").textContent = hhmm(now);
  $("#clock-date").textContent = day(now);
}
setInterval(drawClock, 1000);

// ---- the server --------------------------------------------------------------------

async function api(path, body, chatId) {
  try {
    const init = { method: "POST" };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const res = await fetch(path, init);
    if (!res.ok) {
      let why = res.statusText;
      try { why = (await res.json()).error || why; } catch (_) { /* not JSON */ }
      toast(chatId, why, true);
      return null;
    }
    return res.status === 204 ? {} : await res.json();
  } catch (e) {
    toast(chatId, String(e), true);
    return null;
  }
}

function connect() {
  const source = new EventSource("/api/events");
  source.onopen = () => { $("#offline").hidden = true; };
  source.onerror = () => { $("#offline").hidden = false; };
  source.onmessage = (e) => {
    const ev = JSON.parse(e.data);
    switch (ev.type) {
      case "snapshot": applySnapshot(ev); break;
      case "message":
      case "edited": upsert(ev.message); break;
      case "deleted": remove(ev.chat_id, ev.id); break;
      case "answer": if (ev.text) { if (ev.alert) alertBox(ev.chat_id, ev.text); else toast(ev.chat_id, ev.text); } break;
      case "clock": state.nowMs = ev.now_ms; state.receivedAt = Date.now(); drawClock(); break;
    }
  };
}

// ---- the whole page ----------------------------------------------------------------

function applySnapshot(snap) {
  const previous = state.snap;
  const keepActing = new Map();
  for (const [id, c] of state.chats) keepActing.set(id, c.acting);
  state.snap = snap;
  state.nowMs = snap.now_ms;
  state.receivedAt = Date.now();
  state.people = new Map(snap.personas.map((p) => [p.id, p]));
  document.documentElement.lang = snap.lang;
  document.title = s("title");
  for (const node of document.querySelectorAll("[data-s]")) node.textContent = s(node.dataset.s);
  for (const b of document.querySelectorAll(".lang button")) {
    b.classList.toggle("on", b.dataset.lang === snap.lang);
    b.title = s("lang_tip");
  }
  const jumps = [
    ["#jump-morning", snap.jumps.morning ? s("jump_to", { time: snap.jumps.morning }) : "08:00", "jump_morning_tip"],
    ["#jump-evening", snap.jumps.evening ? s("jump_to", { time: snap.jumps.evening }) : "18:00", "jump_evening_tip"],
    ["#jump-hour", s("jump_hour"), "jump_hour_tip"],
  ];
  for (const [sel, label, tip] of jumps) {
    $(sel).textContent = label;
    $(sel).title = s(tip);
  }
  $("#reset").textContent = s("reset");
  $(".clock").title = snap.tz;
  const owner = snap.personas.find((p) => p.role === "owner");
  $("#hint-text").textContent = s("hint", { owner: owner ? owner.name : "" });
  $("#hint").hidden = localStorage.getItem("butler-sandbox-hint") === "closed";
  $("#busy").hidden = !snap.busy;
  document.body.classList.toggle("is-busy", snap.busy);

  const panes = $("#panes");
  const sameChats = previous && previous.chats.map((c) => c.id).join() === snap.chats.map((c) => c.id).join();
  if (!sameChats) {
    panes.textContent = "";
    state.chats.clear();
  }
  for (const info of snap.chats) {
    let chat = state.chats.get(info.id);
    if (!chat) {
      chat = { info, messages: new Map(), el: null, acting: null, reply: null, attach: null, stick: true };
      chat.el = buildPane(chat);
      panes.append(chat.el);
      state.chats.set(info.id, chat);
    }
    chat.info = info;
    const kept = keepActing.get(info.id);
    chat.acting = info.members.includes(kept) ? kept : info.acting;
    chat.messages = new Map();
    refreshPaneChrome(chat);
  }
  for (const m of snap.messages) {
    const chat = state.chats.get(m.chat_id);
    if (chat) chat.messages.set(m.id, m);
  }
  for (const chat of state.chats.values()) {
    renderMessages(chat);
    scrollToEnd(chat, true);
  }
  drawClock();
}

// ---- a chat pane -------------------------------------------------------------------

function buildPane(chat) {
  const id = chat.info.id;
  const pane = el("section", { class: "pane", "data-chat": id, "data-kind": chat.info.kind });
  pane.append(
    el("header", { class: "pane-head" },
      el("div", { class: "avatar chat-avatar" }),
      el("div", { class: "pane-titles" }, el("h2", {}), el("p", {}))),
    el("div", {
      class: "messages", role: "log", "aria-live": "polite",
      onscroll: () => { chat.stick = nearEnd(chat); },
    }),
    el("div", { class: "toast", hidden: true }),
    el("div", { class: "alert", hidden: true, role: "alertdialog" },
      el("div", { class: "alert-box" },
        el("p", {}),
        el("button", { type: "button", class: "alert-ok", onclick: () => { $(".alert", pane).hidden = true; } }))),
    buildComposer(chat),
  );
  return pane;
}

function buildComposer(chat) {
  const samples = el("div", { class: "popover samples", hidden: true },
    SAMPLES.map((name) => el("button", {
      type: "button", class: "sample", "data-sample": name,
      onclick: () => { attach(chat, { sample: name, url: "/samples/" + name, label: name }); },
    }, el("img", { src: "/samples/" + name, alt: name }))),
    el("label", { class: "upload" },
      el("span", { class: "upload-label" }),
      el("input", {
        type: "file", accept: "image/*", hidden: true,
        onchange: (e) => {
          const file = e.target.files[0];
          e.target.value = "";
          if (file) attach(chat, { file, url: URL.createObjectURL(file), label: file.name });
        },
      })));
  const menu = el("div", { class: "popover menu", hidden: true });
  const input = el("textarea", {
    rows: 1,
    onkeydown: (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(chat); }
      if (e.key === "Escape") { setReply(chat, null); closePopovers(chat); }
    },
    oninput: () => grow(input),
  });
  return el("footer", { class: "composer" },
    el("div", { class: "as" }, el("span", { class: "as-label" }), el("div", { class: "chips" })),
    el("div", { class: "reply-bar", hidden: true },
      el("span", { class: "reply-icon", html: ICONS.reply }),
      el("div", { class: "reply-what" }, el("b", {}), el("span", {})),
      el("button", { type: "button", class: "x", "aria-label": "cancel", onclick: () => setReply(chat, null) }, "×")),
    el("div", { class: "attach-bar", hidden: true },
      el("img", { alt: "" }),
      el("span", { class: "attach-name" }),
      el("button", { type: "button", class: "x", "aria-label": "remove", onclick: () => attach(chat, null) }, "×")),
    samples,
    menu,
    el("div", { class: "row" },
      el("button", { type: "button", class: "icon attach", html: ICONS.clip, onclick: () => toggle(chat, samples) }),
      el("button", { type: "button", class: "icon commands", onclick: () => toggle(chat, menu) }, "/"),
      input,
      el("button", { type: "button", class: "send", onclick: () => send(chat) },
        el("span", { class: "send-icon", html: ICONS.send }), el("span", { class: "send-label" }))),
  );
}

function grow(input) {
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight, 140) + "px";
}

function toggle(chat, popover) {
  const open = popover.hidden;
  closePopovers(chat);
  popover.hidden = !open;
}

function closePopovers(chat) {
  for (const p of chat.el.querySelectorAll(".popover")) p.hidden = true;
}

function refreshPaneChrome(chat) {
  const pane = chat.el;
  const info = chat.info;
  $(".pane-head h2", pane).textContent = info.title;
  $(".pane-head p", pane).textContent = info.subtitle;
  const head = $(".chat-avatar", pane);
  head.textContent = info.kind === "private" ? "B" : initials(info.title);
  head.style.background = info.kind === "private" ? BOT_COLOR : (info.id === -100999 ? "#3d8f73" : "#5a7bd0");
  $(".as-label", pane).textContent = s("send_as");
  const chips = $(".chips", pane);
  chips.textContent = "";
  for (const id of info.members) {
    const p = state.people.get(id);
    if (!p) continue;
    chips.append(el("button", {
      type: "button",
      class: "chip" + (id === chat.acting ? " on" : ""),
      "data-user": id,
      title: roleOf(id),
      onclick: () => { chat.acting = id; refreshPaneChrome(chat); renderMessages(chat); },
    }, avatar({ id, name: p.name, bot: false }, true), el("span", {}, p.name)));
  }
  $("textarea", pane).placeholder = s("placeholder");
  $(".send-label", pane).textContent = s("send");
  $(".attach", pane).title = s("attach");
  $(".commands", pane).title = s("commands");
  $(".upload-label", pane).textContent = s("upload");
  $(".alert-ok", pane).textContent = s("ok");
  const menu = $(".menu", pane);
  menu.textContent = "";
  menu.append(el("div", { class: "menu-title" }, s("commands")));
  for (const c of info.menu) {
    menu.append(el("button", {
      type: "button", class: "menu-item", "data-command": c.command,
      onclick: () => {
        const input = $("textarea", pane);
        input.value = "/" + c.command + " ";
        closePopovers(chat);
        input.focus();
        grow(input);
      },
    }, el("b", {}, "/" + c.command), el("span", {}, c.description)));
  }
  refreshComposerBars(chat);
}

function refreshComposerBars(chat) {
  const pane = chat.el;
  const bar = $(".reply-bar", pane);
  if (chat.reply) {
    const m = chat.messages.get(chat.reply);
    bar.hidden = !m;
    if (m) {
      $(".reply-what b", pane).textContent = s("reply_to", { name: m.from.name });
      $(".reply-what span", pane).textContent =
        m.text || (m.photo ? s("photo") : m.document ? m.document.name : "");
    }
  } else {
    bar.hidden = true;
  }
  const att = $(".attach-bar", pane);
  att.hidden = !chat.attach;
  if (chat.attach) {
    $("img", att).src = chat.attach.url;
    $(".attach-name", att).textContent = chat.attach.label;
  }
  for (const m of pane.querySelectorAll(".msg")) {
    m.classList.toggle("replying", Number(m.dataset.id) === chat.reply);
  }
}

function setReply(chat, id) {
  chat.reply = id;
  refreshComposerBars(chat);
  if (id) $("textarea", chat.el).focus();
}

function attach(chat, what) {
  chat.attach = what;
  closePopovers(chat);
  refreshComposerBars(chat);
  if (what) $("textarea", chat.el).focus();
}

async function send(chat) {
  const input = $("textarea", chat.el);
  const text = input.value.trim();
  if (!text && !chat.attach) return;
  const form = new FormData();
  form.append("chat", chat.info.id);
  form.append("user", chat.acting);
  form.append("text", text);
  if (chat.reply) form.append("reply_to", chat.reply);
  if (chat.attach && chat.attach.sample) form.append("sample", chat.attach.sample);
  if (chat.attach && chat.attach.file) form.append("photo", chat.attach.file, chat.attach.file.name);
  const sent = await api("/api/send", form, chat.info.id);
  if (sent) {
    input.value = "";
    grow(input);
    chat.reply = null;
    chat.attach = null;
    refreshComposerBars(chat);
  }
}

function press(chat, message, button) {
  if (button.url) { window.open(button.url, "_blank", "noopener"); return; }
  api("/api/press", {
    chat: chat.info.id, message_id: message.id, user: chat.acting, data: button.data,
  }, chat.info.id);
}

// ---- messages ----------------------------------------------------------------------

function nearEnd(chat) {
  const box = $(".messages", chat.el);
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollToEnd(chat, force) {
  const box = $(".messages", chat.el);
  if (force || chat.stick) box.scrollTop = box.scrollHeight;
}

function renderMessages(chat) {
  const box = $(".messages", chat.el);
  const wasNearEnd = chat.stick;
  box.textContent = "";
  const ordered = [...chat.messages.values()].sort((a, b) => a.id - b.id);
  let prev = null;
  for (const m of ordered) {
    if (!prev || day(prev.at_ms) !== day(m.at_ms)) box.append(el("div", { class: "day" }, el("span", {}, day(m.at_ms))));
    box.append(messageEl(chat, m, prev));
    prev = m;
  }
  refreshComposerBars(chat);
  if (wasNearEnd) box.scrollTop = box.scrollHeight;
}

function upsert(m) {
  const chat = state.chats.get(m.chat_id);
  if (!chat) return;
  const wasNearEnd = chat.stick;
  const isNew = !chat.messages.has(m.id);
  chat.messages.set(m.id, m);
  const box = $(".messages", chat.el);
  const old = box.querySelector(`.msg[data-id="${m.id}"]`);
  const ordered = [...chat.messages.values()].sort((a, b) => a.id - b.id);
  const at = ordered.findIndex((x) => x.id === m.id);
  const prev = at > 0 ? ordered[at - 1] : null;
  if (old) {
    old.replaceWith(messageEl(chat, m, prev));
    if (m.edited) flash(box.querySelector(`.msg[data-id="${m.id}"]`));
  } else if (at !== ordered.length - 1) {
    renderMessages(chat);
  } else {
    if (!prev || day(prev.at_ms) !== day(m.at_ms)) box.append(el("div", { class: "day" }, el("span", {}, day(m.at_ms))));
    box.append(messageEl(chat, m, prev));
  }
  refreshComposerBars(chat);
  if (isNew && (wasNearEnd || m.from.id === chat.acting)) {
    box.scrollTop = box.scrollHeight;
    chat.stick = true;
  }
}

function remove(chatId, id) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  chat.messages.delete(id);
  renderMessages(chat);
}

function flash(node) {
  if (!node) return;
  node.classList.remove("flash");
  void node.offsetWidth;
  node.classList.add("flash");
}

// A document Butler sent (an export): its name and size, and a link that downloads it.
function fileEl(doc) {
  return el("a", {
    class: "file", href: doc.url, download: doc.name, title: s("download"),
    onclick: (e) => e.stopPropagation(),
  },
  el("span", { class: "file-icon", "aria-hidden": "true" }, fileExt(doc.name)),
  el("span", { class: "file-info" },
    el("span", { class: "file-name" }, doc.name),
    el("span", { class: "file-size" }, fileSize(doc.size))));
}

function fileExt(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1, dot + 5).toUpperCase() : "FILE";
}

function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function messageEl(chat, m, prev) {
  if (m.service) return el("div", { class: "service", "data-id": m.id }, el("span", {}, m.service));
  const own = !m.from.bot && m.from.id === chat.acting;
  const cont = prev && !prev.service && prev.from.id === m.from.id && m.at_ms - prev.at_ms < 5 * 60 * 1000;
  const bubble = el("div", { class: "bubble" + (m.photo ? " has-photo" : "") });
  if (!own && !cont) {
    bubble.append(el("div", { class: "name", style: `color:${colorOf(m.from)}` },
      m.from.name, el("span", { class: "role" }, m.from.bot ? s("role_bot") : roleOf(m.from.id))));
  }
  if (m.reply) {
    bubble.append(el("div", {
      class: "quote",
      onclick: (e) => {
        e.stopPropagation();
        const target = $(`.msg[data-id="${m.reply.id}"]`, chat.el);
        if (target) { target.scrollIntoView({ block: "center", behavior: "smooth" }); flash(target); }
      },
    }, el("b", {}, m.reply.name), el("span", {}, m.reply.text)));
  }
  if (m.photo) {
    const img = el("img", { class: "photo", src: m.photo, alt: s("photo"), loading: "eager" });
    img.addEventListener("load", () => { if (chat.stick) scrollToEnd(chat, true); });
    bubble.append(img);
  }
  if (m.document) bubble.append(fileEl(m.document));
  if (m.text) bubble.append(el("div", { class: "text" }, m.text));
  bubble.append(el("div", { class: "meta" },
    m.edited ? el("span", { class: "edited" }, s("edited")) : null,
    el("time", {}, hhmm(m.at_ms))));
  const body = el("div", { class: "body" }, bubble);
  if (m.buttons.length) {
    body.append(el("div", { class: "keyboard" }, m.buttons.map((row) =>
      el("div", { class: "krow" }, row.map((b) => el("button", {
        type: "button", class: "kb", "data-data": b.data || "",
        onclick: (e) => { e.stopPropagation(); press(chat, m, b); },
      }, b.text))))));
  }
  const node = el("div", {
    class: "msg" + (own ? " own" : "") + (m.from.bot ? " from-bot" : "") + (cont ? " cont" : ""),
    "data-id": m.id,
    "data-from": m.from.id,
    title: "",
    onclick: (e) => {
      if (e.target.closest(".keyboard") || getSelection().toString()) return;
      setReply(chat, chat.reply === m.id ? null : m.id);
    },
  });
  if (!own) node.append(cont ? el("div", { class: "avatar-gap" }) : avatar(m.from, false));
  node.append(body);
  return node;
}

// ---- answers to button presses -----------------------------------------------------

function toast(chatId, text, error) {
  const chat = state.chats.get(chatId) || state.chats.values().next().value;
  if (!chat) return;
  const t = $(".toast", chat.el);
  t.textContent = text;
  t.classList.toggle("error", !!error);
  t.hidden = false;
  clearTimeout(t.timer);
  t.timer = setTimeout(() => { t.hidden = true; }, 3500);
}

function alertBox(chatId, text) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const a = $(".alert", chat.el);
  $("p", a).textContent = text;
  a.hidden = false;
}

// ---- the top bar -------------------------------------------------------------------

$("#jump-morning").addEventListener("click", () => api("/api/time", { to: "morning" }));
$("#jump-evening").addEventListener("click", () => api("/api/time", { to: "evening" }));
$("#jump-hour").addEventListener("click", () => api("/api/time", { to: "hour" }));
$("#reset").addEventListener("click", () => {
  if (confirm(s("reset_confirm"))) api("/api/reset", {});
});
for (const b of document.querySelectorAll(".lang button")) {
  b.addEventListener("click", () => {
    if (!state.snap || state.snap.lang === b.dataset.lang) return;
    api("/api/lang", { lang: b.dataset.lang });
  });
}
$("#hint-close").addEventListener("click", () => {
  localStorage.setItem("butler-sandbox-hint", "closed");
  $("#hint").hidden = true;
});
document.addEventListener("click", (e) => {
  if (e.target.closest(".popover, .icon")) return;
  for (const chat of state.chats.values()) closePopovers(chat);
});

connect();
