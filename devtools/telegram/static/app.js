/* The emulator's chat page: plain JS over the control API (/_emulator) with live SSE updates. */
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  bots: [], users: [], groups: [],
  botId: null, userId: null, chatId: null,
  details: null, entries: new Map(), events: null, typingTimer: null,
};

// ------------------------------------------------------------------ HTTP helpers

async function api(path, options = {}) {
  const init = { ...options };
  if (init.json !== undefined) {
    init.body = JSON.stringify(init.json);
    init.headers = { "Content-Type": "application/json" };
    delete init.json;
  }
  const response = await fetch("_emulator" + path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function toast(text, ms = 2600) {
  const el = $("toast");
  el.textContent = text;
  el.classList.remove("hidden");
  clearTimeout(el._timer);
  el._timer = setTimeout(() => el.classList.add("hidden"), ms);
}

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function initials(name) {
  return (name || "?").split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
}

function safeUrl(url) {
  return /^(https?:|tg:|mailto:)/i.test(url || "") ? url : "#";
}

// ------------------------------------------------------------------ entities → HTML

/* Entities use UTF-16 offsets, which is exactly how JS strings index. */
function renderEntities(text, entities) {
  const list = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
  const render = (start, end, items) => {
    let out = "";
    let pos = start;
    let i = 0;
    while (i < items.length) {
      const e = items[i];
      if (e.offset < pos) { i += 1; continue; }
      const eEnd = Math.min(e.offset + e.length, end);
      out += esc(text.slice(pos, e.offset));
      const inner = [];
      let j = i + 1;
      while (j < items.length && items[j].offset < eEnd) { inner.push(items[j]); j += 1; }
      out += wrapEntity(e, render(e.offset, eEnd, inner), text.slice(e.offset, eEnd));
      pos = eEnd;
      i = j;
    }
    return out + esc(text.slice(pos, end));
  };
  return render(0, text.length, list);
}

function wrapEntity(e, html, raw) {
  switch (e.type) {
    case "bold": return `<b>${html}</b>`;
    case "italic": return `<i>${html}</i>`;
    case "underline": return `<u>${html}</u>`;
    case "strikethrough": return `<s>${html}</s>`;
    case "spoiler": return `<span class="spoiler" onclick="this.classList.toggle('shown')">${html}</span>`;
    case "code": return `<code>${html}</code>`;
    case "pre": return `<pre>${html}</pre>`;
    case "blockquote": case "expandable_blockquote": return `<blockquote>${html}</blockquote>`;
    case "text_link": return `<a href="${esc(safeUrl(e.url))}" target="_blank" rel="noopener">${html}</a>`;
    case "url": return `<a href="${esc(safeUrl(raw))}" target="_blank" rel="noopener">${html}</a>`;
    case "bot_command": return `<span class="cmd" data-cmd="${esc(raw)}">${html}</span>`;
    case "mention": case "text_mention": case "hashtag": return `<span class="cmd">${html}</span>`;
    default: return html;
  }
}

// ------------------------------------------------------------------ loading bots, users, chats

async function loadState() {
  const data = await api("/state");
  state.bots = data.bots;
  state.users = data.users;
  state.groups = data.groups;
  const params = new URLSearchParams(location.search);
  const pick = (list, wanted, stored) => {
    const ids = list.map((x) => String(x.id));
    for (const candidate of [wanted, stored]) if (candidate && ids.includes(String(candidate))) return Number(candidate);
    return list.length ? list[0].id : null;
  };
  state.botId = pick(state.bots, params.get("bot"), localStorage.getItem("emu.bot"));
  state.userId = pick(state.users, params.get("user"), localStorage.getItem("emu.user"));
  fillSelect($("bot-select"), state.bots, (b) => `${b.first_name} (@${b.username})`, state.botId, "— no bots —");
  fillSelect($("user-select"), state.users, (u) => `${u.first_name}${u.username ? " @" + u.username : ""}`, state.userId, "— no users —");
  const requestedChat = params.get("chat") || localStorage.getItem("emu.chat");
  await selectBotAndUser(requestedChat ? Number(requestedChat) : null);
}

function fillSelect(select, list, label, selected, emptyText) {
  select.innerHTML = "";
  if (!list.length) {
    select.innerHTML = `<option value="">${esc(emptyText)}</option>`;
    return;
  }
  for (const item of list) {
    const option = document.createElement("option");
    option.value = item.id;
    option.textContent = label(item);
    option.selected = item.id === selected;
    select.appendChild(option);
  }
}

async function selectBotAndUser(chatId = null) {
  if (state.botId) localStorage.setItem("emu.bot", state.botId);
  if (state.userId) localStorage.setItem("emu.user", state.userId);
  renderHowTo();
  if (!state.botId || !state.userId) {
    $("chat-title").textContent = state.botId ? botName() : "No bot yet";
    $("chat-status").textContent = state.botId ? "create a user to chat as" : "create a bot to start";
    $("chat-list").innerHTML = "";
    return;
  }
  const chats = await api(`/bots/${state.botId}/chats?user_id=${state.userId}`);
  state.chats = chats;
  state.chatId = chats.some((c) => c.id === chatId) ? chatId : state.userId;
  renderChatList();
  connectEvents();
  await openChat(state.chatId);
}

function bot() { return state.bots.find((b) => b.id === state.botId); }
function botName() { const b = bot(); return b ? b.first_name : "?"; }

function renderChatList() {
  const list = $("chat-list");
  list.innerHTML = "";
  for (const chat of state.chats || []) {
    const li = document.createElement("li");
    const isPrivate = chat.type === "private";
    const title = isPrivate ? botName() : chat.title;
    const sub = isPrivate ? "private chat" : (chat.bot_is_member ? chat.type : "bot is not a member");
    li.innerHTML = `<div class="avatar small">${esc(initials(title))}</div><div><div>${esc(title)}</div><div class="chat-sub">${esc(sub)}</div></div>`;
    li.classList.toggle("active", chat.id === state.chatId);
    li.dataset.chatId = chat.id;
    li.onclick = () => openChat(chat.id);
    list.appendChild(li);
  }
}

async function refreshDetails() {
  state.details = await api(`/bots/${state.botId}?user_id=${state.userId}`);
  const d = state.details;
  $("bot-info").innerHTML = `
    <div class="kv">Token: <code id="token-text">${esc(d.token)}</code> <button class="link-btn" id="copy-token">copy</button></div>
    <div class="kv">Bot id: <code>${d.id}</code></div>
    <div class="kv">Updates: ${d.webhook_url ? "webhook <code>" + esc(d.webhook_url) + "</code>" : "getUpdates (polling)"}</div>
    <div class="kv">Pending updates: ${d.pending_update_count}</div>`;
  $("copy-token").onclick = () => navigator.clipboard.writeText(d.token).then(() => toast("Token copied"));
  const blocked = d.blocked && state.chatId === state.userId;
  $("blocked-banner").classList.toggle("hidden", !blocked);
  $("block-btn").textContent = d.blocked ? "Unblock bot" : "Block bot";
  const menu = $("menu-btn");
  if (d.menu_button && d.menu_button.type === "web_app") {
    menu.textContent = d.menu_button.text;
    menu.classList.add("webapp");
  } else {
    menu.textContent = "☰";
    menu.classList.remove("webapp");
  }
}

function renderHowTo() {
  const b = bot();
  const base = new URL(".", location.href).href.replace(/\/$/, "");
  $("howto").textContent = b
    ? `bot = Bot("${b.token}",\n  session=AiohttpSession(api=TelegramAPIServer.from_base("${base}")))`
    : `# then, in your bot:\nbot = Bot(TOKEN, session=AiohttpSession(\n  api=TelegramAPIServer.from_base("${base}")))`;
}

// ------------------------------------------------------------------ the open chat

async function openChat(chatId) {
  state.chatId = chatId;
  localStorage.setItem("emu.chat", chatId);
  renderChatList();
  const chat = (state.chats || []).find((c) => c.id === chatId);
  const title = !chat || chat.type === "private" ? botName() : chat.title;
  $("chat-title").textContent = title;
  $("chat-avatar").textContent = initials(title);
  setStatus();
  await refreshDetails();
  const entries = await api(`/bots/${state.botId}/chats/${chatId}/transcript`);
  state.entries = new Map();
  const box = $("messages");
  box.innerHTML = "";
  for (const entry of entries) upsert(entry, false);
  if (!entries.length && chatId === state.userId) {
    const start = document.createElement("button");
    start.className = "start-btn";
    start.id = "start-btn";
    start.textContent = "START";
    start.onclick = () => sendText("/start");
    box.appendChild(start);
  }
  updateReplyKeyboard();
  scrollDown();
}

async function resync() {
  if (!state.botId || !state.chatId) return;
  const chatId = state.chatId;
  const entries = await api(`/bots/${state.botId}/chats/${chatId}/transcript?include_deleted=true`);
  if (chatId !== state.chatId) return;
  for (const entry of entries) {
    const known = state.entries.get(entry.message_id);
    if (entry.deleted) { if (known) remove(entry.message_id); continue; }
    if (!known || known.edit_date !== entry.edit_date) upsert(entry);
  }
}

function setStatus(action) {
  const el = $("chat-status");
  clearTimeout(state.typingTimer);
  if (action) {
    el.textContent = action.replace(/_/g, " ").replace("upload", "sending") + "…";
    el.classList.add("typing");
    state.typingTimer = setTimeout(() => setStatus(), 5000);
    return;
  }
  el.classList.remove("typing");
  const chat = (state.chats || []).find((c) => c.id === state.chatId);
  el.textContent = chat && chat.type !== "private" ? chat.type : "bot";
}

function scrollDown() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function upsert(entry, scroll = true) {
  if (entry.deleted) return remove(entry.message_id);
  state.entries.set(entry.message_id, entry);
  const existing = document.querySelector(`[data-message-id="${entry.message_id}"]`);
  const el = renderEntry(entry);
  const start = $("start-btn");
  if (start) start.remove();
  if (existing) existing.replaceWith(el);
  else $("messages").appendChild(el);
  if (entry.from_bot) setStatus();
  updateReplyKeyboard();
  if (scroll && !existing) scrollDown();
}

function remove(messageId) {
  state.entries.delete(messageId);
  const el = document.querySelector(`[data-message-id="${messageId}"]`);
  if (el) el.remove();
}

function formatTime(unix) {
  return new Date(unix * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function formatSize(bytes) {
  if (!bytes) return "";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i += 1; }
  return `${bytes.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function serviceText(m) {
  if (m.new_chat_members) return `${m.new_chat_members.map((u) => u.first_name).join(", ")} joined the group`;
  if (m.left_chat_member) return `${m.left_chat_member.first_name} left the group`;
  if (m.successful_payment) return `You paid ⭐ ${m.successful_payment.total_amount} to ${botName()}`;
  if (m.refunded_payment) return `${botName()} refunded ⭐ ${m.refunded_payment.total_amount}`;
  return null;
}

function renderEntry(entry) {
  const m = entry.message;
  const wrap = document.createElement("div");
  wrap.dataset.messageId = entry.message_id;
  const service = serviceText(m);
  if (service) {
    wrap.className = "msg service";
    wrap.innerHTML = `<div class="service-pill">${esc(service)}</div>`;
    return wrap;
  }
  wrap.className = "msg " + (entry.from_bot ? "in" : "out");
  wrap.dataset.testid = entry.from_bot ? "bot-message" : "user-message";
  const bubble = document.createElement("div");
  bubble.className = "bubble" + (m.invoice ? " invoice" : "");
  bubble.setAttribute("dir", "auto");
  let html = "";
  if (m.forward_origin) {
    const who = m.forward_origin.sender_user ? m.forward_origin.sender_user.first_name : "someone";
    html += `<div class="forwarded">Forwarded from ${esc(who)}</div>`;
  }
  if (m.reply_to_message) {
    const r = m.reply_to_message;
    html += `<div class="reply-quote" dir="auto"><b>${esc((r.from && r.from.first_name) || "")}</b>${esc((r.text || r.caption || "media").slice(0, 80))}</div>`;
  }
  if (entry.media) html += renderMedia(entry.media, m);
  if (m.invoice) {
    const inv = m.invoice;
    html += `<div class="invoice-title" dir="auto">${esc(inv.title)}</div>
      <div class="invoice-desc" dir="auto">${esc(inv.description)}</div>
      <div class="invoice-price">⭐ ${inv.total_amount} · Telegram Stars</div>`;
  }
  const text = m.text !== undefined ? m.text : m.caption;
  if (text) html += `<div class="text" dir="auto">${renderEntities(text, m.entities || m.caption_entities)}</div>`;
  const edited = entry.edit_date ? "edited " : "";
  html += `<span class="meta">${edited}${formatTime(entry.date)}</span><div style="clear:both"></div>`;
  bubble.innerHTML = html;
  bubble.querySelectorAll(".cmd[data-cmd]").forEach((el) => { el.onclick = () => sendText(el.dataset.cmd); });
  wrap.appendChild(bubble);
  const rows = (m.reply_markup && m.reply_markup.inline_keyboard) || [];
  if (rows.length || m.invoice) wrap.appendChild(renderInlineKeyboard(rows, entry));
  return wrap;
}

function renderMedia(media, m) {
  const url = media.url;
  switch (media.kind) {
    case "photo": return `<img class="media" src="${esc(url)}" alt="photo" loading="lazy">`;
    case "video": return `<video class="media" src="${esc(url)}" controls preload="metadata"></video>`;
    case "animation": return `<video class="media" src="${esc(url)}" autoplay loop muted playsinline></video>`;
    case "audio": case "voice": {
      const a = m.audio || {};
      const label = a.title ? `<div class="doc-name">${esc(a.performer ? a.performer + " — " : "")}${esc(a.title)}</div>` : "";
      return `${label}<audio class="media" src="${esc(url)}" controls preload="metadata"></audio>`;
    }
    default: {
      const d = m.document || m[media.kind] || {};
      return `<a class="doc" href="${esc(url)}" download="${esc(media.file_name || "file")}">
        <span class="doc-icon">⬇</span>
        <span><div class="doc-name">${esc(media.file_name || "file")}</div><div class="doc-size">${formatSize(d.file_size)}</div></span></a>`;
    }
  }
}

function renderInlineKeyboard(rows, entry) {
  const box = document.createElement("div");
  box.className = "inline-kb";
  const all = rows.length ? rows : [[{ text: `Pay ⭐ ${entry.message.invoice.total_amount}`, pay: true }]];
  for (const row of all) {
    const rowEl = document.createElement("div");
    rowEl.className = "kb-row";
    for (const button of row) {
      const b = document.createElement("button");
      b.className = "kb-btn" + (button.pay ? " pay-btn" : "");
      b.setAttribute("dir", "auto");
      let label = button.text;
      if (button.pay && entry.message.invoice && !/⭐|XTR/.test(label)) label = `Pay ⭐ ${entry.message.invoice.total_amount}`;
      b.textContent = label;
      if (button.url || button.web_app) {
        const corner = document.createElement("span");
        corner.className = "corner";
        corner.innerHTML = button.web_app
          ? '<svg viewBox="0 0 12 12" width="10" height="10"><rect x="1.5" y="1.5" width="9" height="9" rx="2" fill="none" stroke="currentColor" stroke-width="1.4"/><path d="M1.5 4.5h9" stroke="currentColor" stroke-width="1.4"/></svg>'
          : "↗";
        b.appendChild(corner);
      }
      b.onclick = () => pressInline(button, entry, b);
      rowEl.appendChild(b);
    }
    box.appendChild(rowEl);
  }
  return box;
}

async function pressInline(button, entry, el) {
  try {
    if (button.callback_data !== undefined) {
      el.classList.add("pending");
      const answer = await api(`/bots/${state.botId}/callback`, {
        method: "POST",
        json: { user_id: state.userId, chat_id: state.chatId, message_id: entry.message_id, data: button.callback_data, wait: 3 },
      });
      el.classList.remove("pending");
      if (answer.answered && answer.text) {
        if (answer.show_alert) await showAlert(answer.text);
        else toast(answer.text);
      }
      if (answer.answered && answer.url) window.open(answer.url, "_blank", "noopener");
    } else if (button.pay) {
      await pay(entry);
    } else if (button.web_app) {
      await openWebApp(button.web_app.url, button.text);
    } else if (button.url) {
      window.open(button.url, "_blank", "noopener");
    } else if (button.copy_text) {
      await navigator.clipboard.writeText(button.copy_text.text);
      toast("Copied to clipboard");
    } else {
      toast("This button type is not emulated");
    }
  } catch (error) {
    el.classList.remove("pending");
    toast(error.message);
  }
}

async function pay(entry) {
  toast("Waiting for the bot to confirm…", 10000);
  const result = await api(`/bots/${state.botId}/pay`, {
    method: "POST",
    json: { user_id: state.userId, chat_id: state.chatId, message_id: entry.message_id },
  });
  if (result.status === "paid") toast(`Paid ⭐ ${result.amount}`);
  else if (result.status === "declined") await showAlert(result.error || "The bot declined the payment.");
  else await showAlert(result.error || "Payment failed.");
}

// ------------------------------------------------------------------ reply keyboard and menu

function updateReplyKeyboard() {
  const box = $("reply-keyboard");
  let markup = null;
  for (const entry of state.entries.values()) {
    if (entry.from_bot && entry.reply_keyboard) markup = entry.reply_keyboard;
  }
  if (!markup || !markup.keyboard || markup.remove_keyboard || markup._used) {
    box.classList.add("hidden");
    return;
  }
  box.innerHTML = "";
  for (const row of markup.keyboard) {
    const rowEl = document.createElement("div");
    rowEl.className = "kb-row";
    for (const button of row) {
      const b = document.createElement("button");
      b.className = "kb-btn";
      b.textContent = button.text;
      b.setAttribute("dir", "auto");
      b.onclick = async () => {
        if (button.web_app) return openWebApp(button.web_app.url, button.text);
        if (markup.one_time_keyboard) markup._used = true;
        await sendText(button.text);
      };
      rowEl.appendChild(b);
    }
    box.appendChild(rowEl);
  }
  box.classList.remove("hidden");
}

function toggleCommands() {
  const pop = $("commands-pop");
  const d = state.details;
  if (d && d.menu_button && d.menu_button.type === "web_app") {
    return openWebApp(d.menu_button.web_app.url, d.menu_button.text);
  }
  if (!pop.classList.contains("hidden")) return pop.classList.add("hidden");
  const commands = (d && d.commands) || [];
  pop.innerHTML = commands.length
    ? commands.map((c) => `<div data-cmd="/${esc(c.command)}"><b>/${esc(c.command)}</b>${esc(c.description)}</div>`).join("")
    : `<div>No commands set (setMyCommands)</div>`;
  pop.querySelectorAll("[data-cmd]").forEach((el) => {
    el.onclick = () => { pop.classList.add("hidden"); sendText(el.dataset.cmd); };
  });
  pop.classList.remove("hidden");
}

async function openWebApp(url, title) {
  const launch = await api(`/bots/${state.botId}/web_app`, {
    method: "POST",
    json: { user_id: state.userId, url, chat_type: state.chatId === state.userId ? "private" : "supergroup" },
  });
  $("webapp-title").textContent = title || "Mini App";
  $("webapp-newtab").href = launch.url;
  $("webapp-frame").src = launch.url;
  $("webapp-panel").classList.remove("hidden");
}

// ------------------------------------------------------------------ sending

async function sendText(text) {
  text = (text || "").trim();
  if (!text || !state.botId || !state.userId) return;
  try {
    const entry = await api(`/bots/${state.botId}/messages`, {
      method: "POST",
      json: { user_id: state.userId, chat_id: state.chatId, text },
    });
    upsert(entry);
  } catch (error) {
    toast(error.message);
  }
}

async function sendFile(file) {
  const kind = file.type.startsWith("image/") && !file.type.includes("gif") ? "photo"
    : file.type.startsWith("video/") ? "video"
    : file.type.startsWith("audio/") ? "audio" : "document";
  const form = new FormData();
  form.append("user_id", state.userId);
  form.append("chat_id", state.chatId);
  form.append("kind", kind);
  form.append("file", file);
  const caption = $("text-input").value.trim();
  if (caption) form.append("caption", caption);
  try {
    const entry = await api(`/bots/${state.botId}/files`, { method: "POST", body: form });
    $("text-input").value = "";
    upsert(entry);
  } catch (error) {
    toast(error.message);
  }
}

// ------------------------------------------------------------------ live events

function connectEvents() {
  if (state.events) state.events.close();
  const source = new EventSource(`_emulator/events?bot_id=${state.botId}`);
  state.events = source;
  // Events sent before the stream opened (or while it was reconnecting) are fetched again.
  source.onopen = () => resync();
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.chat_id !== state.chatId && event.chat_id !== null) return;
    switch (event.type) {
      case "message": case "edit": upsert(event.entry); break;
      case "delete": remove(event.message_id); break;
      case "action": setStatus(event.action); break;
      case "blocked": case "unblocked": case "menu": refreshDetails(); break;
      default: break;
    }
  };
}

// ------------------------------------------------------------------ dialogs

function showAlert(text) {
  return new Promise((resolve) => {
    $("dialog-title").textContent = botName();
    $("dialog-body").textContent = text;
    $("dialog-cancel").classList.add("hidden");
    const dialog = $("dialog");
    dialog.onclose = () => { $("dialog-cancel").classList.remove("hidden"); resolve(); };
    dialog.showModal();
  });
}

function askForm(title, fields) {
  return new Promise((resolve) => {
    $("dialog-title").textContent = title;
    $("dialog-body").innerHTML = fields.map((f) =>
      `<label>${esc(f.label)}<input name="${f.name}" value="${esc(f.value || "")}" placeholder="${esc(f.placeholder || "")}"></label>`).join("");
    const dialog = $("dialog");
    dialog.onclose = () => {
      if (dialog.returnValue !== "ok") return resolve(null);
      const values = {};
      for (const f of fields) values[f.name] = dialog.querySelector(`input[name="${f.name}"]`).value.trim();
      resolve(values);
    };
    dialog.showModal();
  });
}

async function newBot() {
  const n = state.bots.length + 1;
  const values = await askForm("New bot", [
    { name: "first_name", label: "Name", value: `My Bot ${n}` },
    { name: "username", label: "Username (ends with bot)", value: `my${n}_bot` },
  ]);
  if (!values) return;
  try {
    const created = await api("/bots", { method: "POST", json: values });
    localStorage.setItem("emu.bot", created.id);
    await loadState();
    toast(`Created @${created.username} — token in the sidebar`);
  } catch (error) {
    toast(error.message);
  }
}

async function newUser() {
  const values = await askForm("New user", [
    { name: "first_name", label: "First name", value: state.users.length ? `User ${state.users.length + 1}` : "You" },
    { name: "language_code", label: "Language code", value: "en" },
  ]);
  if (!values) return;
  try {
    const created = await api("/users", { method: "POST", json: values });
    localStorage.setItem("emu.user", created.id);
    await loadState();
  } catch (error) {
    toast(error.message);
  }
}

async function newGroup() {
  if (!state.botId || !state.userId) return;
  const values = await askForm("New group", [{ name: "title", label: "Title", value: "Test group" }]);
  if (!values) return;
  const group = await api("/groups", {
    method: "POST",
    json: { title: values.title, owner_id: state.userId, bots: [state.botId] },
  });
  await selectBotAndUser(group.id);
}

// ------------------------------------------------------------------ wiring

function wire() {
  $("bot-select").onchange = (e) => { state.botId = Number(e.target.value) || null; selectBotAndUser(); };
  $("user-select").onchange = (e) => { state.userId = Number(e.target.value) || null; selectBotAndUser(); };
  $("new-bot").onclick = newBot;
  $("new-user").onclick = newUser;
  $("new-group").onclick = newGroup;
  $("send-btn").onclick = () => { const input = $("text-input"); sendText(input.value); input.value = ""; };
  $("text-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      sendText(e.target.value);
      e.target.value = "";
    }
  });
  $("file-input").onchange = (e) => { if (e.target.files[0]) sendFile(e.target.files[0]); e.target.value = ""; };
  $("menu-btn").onclick = toggleCommands;
  $("webapp-close").onclick = () => { $("webapp-panel").classList.add("hidden"); $("webapp-frame").src = "about:blank"; };
  const toggleBlock = async () => {
    const blocked = state.details && state.details.blocked;
    await api(`/bots/${state.botId}/${blocked ? "unblock" : "block"}`, { method: "POST", json: { user_id: state.userId } });
    await refreshDetails();
  };
  $("block-btn").onclick = toggleBlock;
  $("unblock-btn").onclick = toggleBlock;
}

wire();
setInterval(() => { if (document.visibilityState === "visible") resync().catch(() => {}); }, 10000);
loadState().catch((error) => toast(error.message));
