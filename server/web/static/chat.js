// Lotse web chat. Messages are numbered by the hub (seq): after a network drop the page asks for
// what it missed, so nothing is lost and nothing is shown twice. Rendering (text only, never
// HTML) is in messages.js, shared with the kiosk.
(() => {
  "use strict";
  const { API, api, renderMessage, modeText } = window.Lotse;
  const store = window.localStorage;
  const params = new URLSearchParams(window.location.search);
  const embedded = params.get("embed") === "1";
  const $ = (id) => document.getElementById(id);
  const log = $("log"), form = $("form"), input = $("input"), typing = $("typing");
  const state = {
    session: store.getItem("lotse.session"), lastSeq: 0, language: null, events: null, texts: {},
    mode: "bot", seen: new Set(), pending: [],  // texts shown as local bubbles, not yet confirmed
  };

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // Every message carries the session's mode after it; older ones may not: keep the last known.
  function setMode(mode) {
    if (!mode) return;
    state.mode = mode;
    const text = modeText(mode, state.texts);
    $("mode").textContent = text;
    $("mode").hidden = !text;
    $("mode").dataset.mode = mode;
  }

  function addMessage(message) {
    if (state.seen.has(message.seq)) return;
    state.seen.add(message.seq);
    state.lastSeq = Math.max(state.lastSeq, message.seq);
    setMode(message.mode);
    if (message.sender === "user") {
      const local = state.pending.indexOf(message.text);
      if (local >= 0) { state.pending.splice(local, 1); return; } // already shown when sent
      if (message.text.startsWith("/")) return; // a pressed button
    }
    log.appendChild(renderMessage(message, state.texts, send));
    scrollDown();
  }

  function showUserBubble(title) {
    log.appendChild(renderMessage({ sender: "user", text: title, dir: "auto" }, state.texts, send));
    scrollDown();
  }

  async function applyLanguage(code) {
    if (!code || code === state.language) return;
    state.language = code;
    const locale = await api("/locales/" + encodeURIComponent(code));
    const texts = state.texts = locale.texts;
    document.documentElement.lang = code;
    document.documentElement.dir = locale.rtl ? "rtl" : "ltr";
    $("title").textContent = texts.bot_name;
    $("send").textContent = texts.send;
    $("human").textContent = texts.contact_person;
    $("lang-label").textContent = texts.change_language;
    $("input-label").textContent = texts.input_placeholder;
    $("close").setAttribute("aria-label", texts.close_chat);
    input.placeholder = texts.input_placeholder;
    $("typing-text").textContent = texts.typing;
    $("export").textContent = texts.privacy_export;
    $("erase").textContent = texts.privacy_delete;
    $("erase-question").textContent = texts.privacy_delete_confirm;
    $("erase-yes").textContent = texts.privacy_delete;
    $("erase-no").textContent = texts.close;
    $("language").value = code;
    setMode(state.mode);
  }

  // Connection trouble is cleared when the connection is back; a notice stays until the next send.
  function setStatus(text, notice = false) { $("status").textContent = text || ""; state.notice = notice; }
  function connectionBack() { if (!state.notice) setStatus(""); }

  async function send(text, shownAs, quiet = false) {
    if (!text.trim()) return;
    if (!quiet) {  // the automatic greeting is not something the newcomer said
      showUserBubble(shownAs || text);
      state.pending.push(text.trim());
    }
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
      setMode(reply.mode);
      setStatus("");
    } catch (error) {
      if (error.status === 404) { store.removeItem("lotse.session"); state.session = null; await start(); return; }
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
      setMode(result.mode);
      connectionBack();
    } catch (_) { /* next reconnect tries again */ }
  }

  function listen() {
    if (state.events) state.events.close();
    const source = new EventSource(`${API}/sessions/${state.session}/events?after=${state.lastSeq}`);
    source.addEventListener("message", (event) => addMessage(JSON.parse(event.data)));
    source.onerror = () => { setStatus(state.texts.reconnecting || "…"); };
    source.onopen = () => { connectionBack(); catchUp(); };
    state.events = source;
  }

  // A kiosk's "continue on my phone" QR code: a one-time token, swapped for the session and
  // removed from the address bar at once (it must not stay in the browser history).
  async function redeemContinueToken() {
    const token = params.get("continue");
    if (!token) return true;
    params.delete("continue");
    const rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
    try {
      const continued = await api("/handover/redeem", { method: "POST", body: JSON.stringify({ token }) });
      state.session = continued.session_id;
      store.setItem("lotse.session", state.session);
      return true;
    } catch (_) { return false; }
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

    const continued = await redeemContinueToken();
    if (state.session) {
      try {
        const history = await api(`/sessions/${state.session}/messages?after=0`);
        await applyLanguage(history.language || "de");
        history.messages.forEach(addMessage);
        setMode(history.mode);
        if (!continued) setStatus(state.texts.continue_failed, true);
        listen();
        return;
      } catch (_) { store.removeItem("lotse.session"); state.session = null; }
    }
    const wanted = params.get("lang") || (navigator.language || "de").split("-")[0];
    const language = languages.some((l) => l.code === wanted) ? wanted : null;
    const region = params.get("region") || null;
    let created;
    try {
      created = await api("/sessions", {
        method: "POST", body: JSON.stringify({ channel: "web", language, region }),
      });
    } catch (error) {
      if (!region) throw error;  // an unknown region in the embed tag: still chat, NRW-wide
      created = await api("/sessions", { method: "POST", body: JSON.stringify({ channel: "web", language }) });
    }
    state.session = created.session_id;
    store.setItem("lotse.session", state.session);
    await applyLanguage(language || "de");
    listen();
    await send("/greet", null, true);
    if (!continued) setStatus(state.texts.continue_failed, true);
    // A municipal page can link straight to a question: /?lang=ar&q=...
    const question = params.get("q");
    if (question) await send(question.slice(0, 4000));
  }

  // The newcomer's rights, one press away: a copy of everything stored, and erasure (after a confirmation).
  async function downloadData() {
    if (!state.session) return;
    const data = await api(`/sessions/${state.session}/export`);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    link.download = "lotse-my-data.json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  // Asked in the page, not with window.confirm: the widget's frame on a municipal page may forbid dialogs.
  function askErase(open) {
    $("erase-confirm").hidden = !open;
    if (open) $("erase-no").focus();
  }

  async function eraseData() {
    askErase(false);
    if (!state.session) return;
    try {
      await api(`/sessions/${state.session}`, { method: "DELETE" });
    } catch (error) {
      if (error.status !== 404) { setStatus(error.message); return; }
    }
    if (state.events) state.events.close();
    store.removeItem("lotse.session");
    Object.assign(state, { session: null, lastSeq: 0, events: null, seen: new Set(), pending: [], mode: "bot" });
    log.replaceChildren();
    const done = state.texts.privacy_deleted;
    state.language = null;  // start() sets it again
    await start();
    setStatus(done, true);
  }

  $("export").addEventListener("click", () => downloadData().catch((error) => setStatus(error.message)));
  $("erase").addEventListener("click", () => askErase(true));
  $("erase-no").addEventListener("click", () => askErase(false));
  $("erase-yes").addEventListener("click", () => eraseData().catch((error) => setStatus(error.message)));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  if (embedded) {  // inside the widget's frame on a municipal page: it owns the open/close button
    document.body.classList.add("embedded");
    const close = () => window.parent.postMessage({ type: "lotse:close" }, "*");
    $("close").hidden = false;
    $("close").addEventListener("click", close);
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
  }
  window.addEventListener("online", () => { listen(); catchUp(); });
  start().catch((error) => setStatus(error.message));
})();
