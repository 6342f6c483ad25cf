// Lotse kiosk: a shared touch screen in the Welcome Center. Languages first, then topic tiles,
// answers in big type with "read aloud". The session lives only in this page's memory: "Start
// again", a phone taking the conversation over, and two idle minutes all wipe it from the screen.
// "Start again" and the idle wipe also erase the conversation on the server (the next person must
// not be able to find it, and nobody else needs it), unless a case manager has it or a phone took it.
// Timeouts can be shortened for tests and demos with ?idle=SECONDS&warn=SECONDS.
(() => {
  "use strict";
  const { API, api, element, renderMessage, modeText } = window.Lotse;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(window.location.search);
  const log = $("log"), typing = $("typing");
  const screens = ["languages", "topics", "chat"];
  const state = {
    languages: [], config: null, texts: {}, language: null, session: null, events: null,
    lastSeq: 0, seen: new Set(), pending: [], mode: "bot", screen: "languages",
    token: null, tokenPoll: null, audio: null, lastActivity: Date.now(), warning: false, handedOver: false,
  };

  function seconds(name, fallback) {
    const value = Number.parseInt(params.get(name) || "", 10);
    return Number.isFinite(value) && value > 0 ? Math.min(value, 3600) : fallback;
  }

  function show(screen) {
    state.screen = screen;
    for (const name of screens) $("screen-" + name).hidden = name !== screen;
    $("home").hidden = screen === "languages";
    $("back").hidden = screen !== "chat";
    $("phone").hidden = !state.session || screen === "languages";
    const heading = $("screen-" + screen).querySelector("h1");
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  }

  function setMode(mode) {
    if (!mode) return;
    state.mode = mode;
    const text = modeText(mode, state.texts);
    $("mode").textContent = text;
    $("mode").hidden = !text;
    $("mode").dataset.mode = mode;
  }

  // ---- language grid and topic tiles ----------------------------------------------------------
  function languageGrid() {
    $("languages").replaceChildren(...state.languages.map((language) => {
      const button = element("button", "languages__item", language.native);
      button.type = "button";
      button.lang = language.code;
      button.dir = language.rtl ? "rtl" : "ltr";
      button.addEventListener("click", () => chooseLanguage(language.code).catch(() => {}));  // tap again
      return button;
    }));
  }

  function applyTexts(code, locale) {
    const texts = state.texts = locale.texts;
    document.documentElement.lang = code;
    document.documentElement.dir = locale.rtl ? "rtl" : "ltr";
    $("topics-title").textContent = texts.kiosk_choose_topic;
    $("home").textContent = texts.start_again;
    $("back").textContent = texts.back_to_topics;
    $("phone").textContent = texts.continue_on_phone;
    $("send").textContent = texts.send;
    $("input-label").textContent = texts.input_placeholder;
    $("input").placeholder = texts.input_placeholder;
    $("typing-text").textContent = texts.typing;
    $("idle-title").textContent = texts.idle_warning;
    $("idle-continue").textContent = texts.idle_continue;
    $("qr-title").textContent = texts.continue_on_phone;
    $("qr-close").textContent = texts.close;
    $("qr-image").alt = texts.qr_explain;
  }

  async function chooseLanguage(code) {
    const [locale, config, created] = await Promise.all([
      api("/locales/" + encodeURIComponent(code)),
      api("/kiosk/config?language=" + encodeURIComponent(code)),
      api("/sessions", { method: "POST", body: JSON.stringify({ channel: "kiosk", language: code }) }),
    ]);
    state.language = code;
    state.config = config;
    state.session = created.session_id;
    applyTexts(code, locale);
    $("tiles").replaceChildren(...config.tiles.map((tile) => {
      const button = element("button", "tiles__item tiles__item--" + tile.topic, tile.title);
      button.type = "button";
      button.addEventListener("click", () => { show("chat"); send(tile.payload, tile.title); });
      return button;
    }));
    listen();
    show("topics");
  }

  // ---- conversation -----------------------------------------------------------------------------
  function canRead(message) {
    return state.config && message.sender !== "user" && message.language
      && state.config.speech_languages.includes(message.language);
  }

  function stopReading() {
    if (state.audio) {
      state.audio.pause();
      URL.revokeObjectURL(state.audio.src);
      state.audio.button.textContent = state.texts.read_aloud;
      state.audio.button.setAttribute("aria-pressed", "false");
      state.audio = null;
    }
  }

  async function readAloud(message, button) {
    const wasPlaying = state.audio && state.audio.button === button;
    stopReading();
    if (wasPlaying) return;
    button.disabled = true;
    try {
      const response = await fetch(API + "/speech", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: message.text, language: message.language }),
      });
      if (!response.ok) throw new Error(response.statusText);
      const audio = new Audio(URL.createObjectURL(await response.blob()));
      audio.button = button;
      audio.addEventListener("ended", stopReading);
      state.audio = audio;
      button.textContent = state.texts.stop_reading;
      button.setAttribute("aria-pressed", "true");
      await audio.play().catch(() => {});
    } catch (_) {
      stopReading();
    } finally {
      button.disabled = false;
    }
  }

  function addMessage(message) {
    if (message.seq !== undefined) {
      if (state.seen.has(message.seq)) return;
      state.seen.add(message.seq);
      state.lastSeq = Math.max(state.lastSeq, message.seq);
      setMode(message.mode);
    }
    if (message.sender === "user" && message.seq !== undefined) {
      const local = state.pending.indexOf(message.text);
      if (local >= 0) { state.pending.splice(local, 1); return; }
      if (message.text.startsWith("/")) return;
    }
    const item = renderMessage(message, state.texts, send);
    if (canRead(message)) {
      const button = element("button", "msg__read", state.texts.read_aloud);
      button.type = "button";
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", () => readAloud(message, button));
      item.insertBefore(button, item.querySelector(".msg__sources, .msg__buttons"));
    }
    log.appendChild(item);
    item.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  async function send(text, shownAs) {
    if (!state.session || !text.trim()) return;
    const session = state.session;
    show("chat");
    addMessage({ sender: "user", text: shownAs || text, dir: "auto" });
    state.pending.push(text.trim());
    typing.hidden = false;
    try {
      const reply = await api(`/sessions/${session}/messages`, { method: "POST", body: JSON.stringify({ text }) });
      if (session !== state.session) return;  // the screen was wiped meanwhile
      if (!state.seen.has(reply.user_seq)) {
        state.seen.add(reply.user_seq);
        const local = state.pending.indexOf(text.trim());
        if (local >= 0) state.pending.splice(local, 1);
      }
      reply.messages.forEach(addMessage);
      setMode(reply.mode);
    } catch (_) {
      if (session === state.session) setTimeout(catchUp, 2000);
    } finally {
      typing.hidden = true;
    }
  }

  async function catchUp() {
    if (!state.session) return;
    const session = state.session;
    try {
      const result = await api(`/sessions/${session}/messages?after=${state.lastSeq}`);
      if (session !== state.session) return;
      result.messages.forEach(addMessage);
      setMode(result.mode);
    } catch (_) { /* the push stream retries */ }
  }

  function listen() {
    if (state.events) state.events.close();
    const source = new EventSource(`${API}/sessions/${state.session}/events?after=${state.lastSeq}`);
    source.addEventListener("message", (event) => addMessage(JSON.parse(event.data)));
    source.onopen = catchUp;
    state.events = source;
  }

  // ---- continue on the phone --------------------------------------------------------------------
  function stopTokenPoll() { clearInterval(state.tokenPoll); state.tokenPoll = null; }

  function revokeToken() {
    stopTokenPoll();
    if (state.token) {
      const token = state.token;
      state.token = null;
      api("/handover/revoke", { method: "POST", body: JSON.stringify({ token }) }).catch(() => {});
    }
  }

  async function continueOnPhone() {
    revokeToken();
    const handover = await api(`/sessions/${state.session}/handover-token`, { method: "POST" });
    state.token = handover.token;
    $("qr-image").src = handover.qr;
    $("qr-text").textContent = state.texts.qr_explain;
    $("qr").showModal();
    state.tokenPoll = setInterval(async () => {
      const token = state.token;
      if (!token) return;
      const status = await api("/handover/status", { method: "POST", body: JSON.stringify({ token }) })
        .catch(() => ({ used: false }));
      if (status.used && token === state.token) {
        state.token = null;
        stopTokenPoll();
        $("qr-text").textContent = state.texts.qr_done;
        state.handedOver = true;  // the phone has it: wipe the kiosk, keep the conversation
        setTimeout(reset, 4000);
      }
    }, 1500);
  }

  // ---- idle and reset ---------------------------------------------------------------------------
  function reset() {
    revokeToken();
    stopReading();
    if (state.events) state.events.close();
    if (state.session && !state.handedOver && state.mode === "bot") {
      api(`/sessions/${state.session}`, { method: "DELETE" }).catch(() => {});
    }
    for (const dialog of [$("idle"), $("qr")]) if (dialog.open) dialog.close();
    Object.assign(state, {
      session: null, events: null, lastSeq: 0, seen: new Set(), pending: [], mode: "bot",
      warning: false, lastActivity: Date.now(), handedOver: false,
    });
    log.replaceChildren();
    $("tiles").replaceChildren();
    $("input").value = "";
    $("qr-image").removeAttribute("src");
    $("mode").hidden = true;
    $("mode").textContent = "";
    document.documentElement.lang = "de";
    document.documentElement.dir = "ltr";
    show("languages");
  }

  function activity() {
    state.lastActivity = Date.now();
    if (state.warning) { state.warning = false; $("idle").close(); }
  }

  function idleTick() {
    const idle = seconds("idle", state.config ? state.config.idle_seconds : 120);
    const warn = seconds("warn", state.config ? state.config.warn_seconds : 30);
    if (state.audio && !state.audio.paused) state.lastActivity = Date.now();  // listening is not idle
    if (state.screen === "languages" && !state.session) return;
    const elapsed = (Date.now() - state.lastActivity) / 1000;
    if (elapsed < idle) return;
    const left = Math.ceil(idle + warn - elapsed);
    if (left <= 0) { reset(); return; }
    $("idle-text").textContent = (state.texts.idle_countdown || "{seconds}").replace("{seconds}", String(left));
    if (!state.warning) {
      state.warning = true;
      $("idle").showModal();
    }
  }

  async function start() {
    state.languages = await api("/languages");
    languageGrid();
    for (const type of ["pointerdown", "keydown", "touchstart", "input"]) {
      document.addEventListener(type, activity, { capture: true, passive: true });
    }
    $("idle-continue").addEventListener("click", activity);
    $("home").addEventListener("click", reset);
    $("back").addEventListener("click", () => show("topics"));
    $("phone").addEventListener("click", () => continueOnPhone().catch(() => {}));
    $("qr-close").addEventListener("click", () => { revokeToken(); $("qr").close(); });
    $("qr").addEventListener("cancel", revokeToken);
    $("form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("input").value;
      $("input").value = "";
      send(text);
    });
    setInterval(idleTick, 250);
    show("languages");
  }

  start().catch(() => setTimeout(() => window.location.reload(), 10000));  // a kiosk must recover alone
})();
