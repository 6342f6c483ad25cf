// Lotse web chat. Everything the user or the bot wrote is inserted with textContent, never as
// HTML. Messages are numbered by the hub (seq): after a network drop the page asks for what it
// missed, so nothing is lost and nothing is shown twice.
(() => {
  "use strict";
  const API = "/api/v1";
  const store = window.localStorage;
  const $ = (id) => document.getElementById(id);
  const log = $("log"), form = $("form"), input = $("input"), typing = $("typing");
  const state = {
    session: store.getItem("lotse.session"), lastSeq: 0, language: null, events: null,
    seen: new Set(), pending: [],  // texts shown as local bubbles, not yet confirmed by the hub
  };

  async function api(path, options = {}) {
    const response = await fetch(API + path, {
      headers: { "Content-Type": "application/json" }, ...options,
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const error = new Error(body.detail || response.statusText);
      error.status = response.status;
      throw error;
    }
    return response.json();
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) { return null; }
  }

  function addMessage(message) {
    if (state.seen.has(message.seq)) return;
    state.seen.add(message.seq);
    state.lastSeq = Math.max(state.lastSeq, message.seq);
    if (message.sender === "user") {
      const local = state.pending.indexOf(message.text);
      if (local >= 0) { state.pending.splice(local, 1); return; } // already shown when sent
      if (message.text.startsWith("/")) return; // a pressed button
    }
    const item = document.createElement("div");
    item.className = "msg msg--" + message.sender;
    item.setAttribute("dir", message.dir || "auto");
    if (message.language) item.setAttribute("lang", message.language);
    const text = document.createElement("div");
    text.textContent = message.text;
    item.appendChild(text);
    if (message.sources && message.sources.length) {
      const list = document.createElement("ul");
      list.className = "msg__sources";
      list.setAttribute("aria-label", state.texts?.sources || "Sources");
      for (const source of message.sources) {
        const li = document.createElement("li");
        li.dir = "auto"; // German source titles inside a right-to-left answer
        const href = safeUrl(source.url);
        if (href) {
          const a = document.createElement("a");
          a.href = href; a.target = "_blank"; a.rel = "noopener noreferrer";
          a.textContent = source.title || href;
          li.appendChild(a);
        } else {
          li.textContent = source.title;
        }
        list.appendChild(li);
      }
      item.appendChild(list);
    }
    if (message.buttons && message.buttons.length) {
      const group = document.createElement("div");
      group.className = "msg__buttons";
      group.setAttribute("role", "group");
      for (const button of message.buttons) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = button.title;
        b.addEventListener("click", () => send(button.payload, button.title));
        group.appendChild(b);
      }
      item.appendChild(group);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function showUserBubble(title) {
    const item = document.createElement("div");
    item.className = "msg msg--user";
    item.setAttribute("dir", "auto");
    item.textContent = title;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  async function applyLanguage(code) {
    if (!code || code === state.language) return;
    state.language = code;
    const locale = await api("/locales/" + encodeURIComponent(code));
    state.texts = locale.texts;
    document.documentElement.lang = code;
    document.documentElement.dir = locale.rtl ? "rtl" : "ltr";
    $("title").textContent = locale.texts.bot_name;
    $("send").textContent = locale.texts.send;
    $("human").textContent = locale.texts.contact_person;
    $("lang-label").textContent = locale.texts.change_language;
    $("input-label").textContent = locale.texts.input_placeholder;
    input.placeholder = locale.texts.input_placeholder;
    $("typing-text").textContent = locale.texts.typing;
    $("language").value = code;
  }

  function setStatus(text) { $("status").textContent = text || ""; }

  async function send(text, shownAs) {
    if (!text.trim()) return;
    showUserBubble(shownAs || text);
    state.pending.push(text.trim());
    typing.hidden = false;
    try {
      const reply = await api(`/sessions/${state.session}/messages`, {
        method: "POST", body: JSON.stringify({ text }),
      });
      if (!state.seen.has(reply.user_seq)) {  // the push stream has not delivered it yet
        state.seen.add(reply.user_seq);
        const local = state.pending.indexOf(text.trim());
        if (local >= 0) state.pending.splice(local, 1);
      }
      await applyLanguage(reply.language);
      reply.messages.forEach(addMessage);
      setStatus("");
    } catch (error) {
      if (error.status === 404) { store.removeItem("lotse.session"); await start(); return; }
      setStatus(error.message);
      setTimeout(catchUp, 2000);
    } finally {
      typing.hidden = true;
    }
  }

  async function catchUp() {
    try {
      const result = await api(`/sessions/${state.session}/messages?after=${state.lastSeq}`);
      result.messages.forEach(addMessage);
      setStatus("");
    } catch (_) { /* next reconnect tries again */ }
  }

  function listen() {
    if (state.events) state.events.close();
    const source = new EventSource(`${API}/sessions/${state.session}/events?after=${state.lastSeq}`);
    source.addEventListener("message", (event) => addMessage(JSON.parse(event.data)));
    source.onerror = () => { setStatus(state.texts?.reconnecting || "…"); };
    source.onopen = () => { setStatus(""); catchUp(); };
    state.events = source;
  }

  async function start() {
    const languages = await api("/languages");
    const select = $("language");
    select.replaceChildren(...languages.map((l) => {
      const option = document.createElement("option");
      option.value = l.code; option.textContent = l.native; option.lang = l.code;
      return option;
    }));
    select.onchange = () => send(`/choose_language{"language":"${select.value}"}`,
      select.options[select.selectedIndex].textContent);
    $("human").onclick = () => send("/request_human", $("human").textContent);

    if (state.session) {
      try {
        const history = await api(`/sessions/${state.session}/messages?after=0`);
        await applyLanguage(history.language || "de");
        history.messages.forEach(addMessage);
        listen();
        return;
      } catch (_) { store.removeItem("lotse.session"); }
    }
    const wanted = new URLSearchParams(window.location.search).get("lang")
      || (navigator.language || "de").split("-")[0];
    const language = languages.some((l) => l.code === wanted) ? wanted : null;
    const created = await api("/sessions", {
      method: "POST", body: JSON.stringify({ channel: "web", language }),
    });
    state.session = created.session_id;
    store.setItem("lotse.session", state.session);
    await applyLanguage(language || "de");
    listen();
    await send("/greet", "👋");
    // A municipal page can link straight to a question: /?lang=ar&q=...
    const question = new URLSearchParams(window.location.search).get("q");
    if (question) await send(question.slice(0, 4000));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  window.addEventListener("online", () => { listen(); catchUp(); });
  start().catch((error) => setStatus(error.message));
})();
