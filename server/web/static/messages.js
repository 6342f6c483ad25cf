// Shared by the web chat and the kiosk: the API helper and one message as DOM elements.
// Every text from the newcomer, the bot or a case manager is set with textContent, never as
// HTML, so "<script>" in a message is shown as those characters and does nothing.
window.Lotse = (() => {
  "use strict";
  const API = "/api/v1";

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
    return response.status === 204 ? null : response.json();
  }

  // Only web links: a "javascript:" source URL must never become a clickable link.
  function safeUrl(url) {
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) { return null; }
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Who wrote it: read out before every message by screen readers; shown for a case manager
  // and for notices, which must not be mistaken for the bot.
  function senderLabel(message, texts) {
    if (message.sender === "user") return texts.sender_user || "You";
    if (message.sender === "agent") {
      const role = texts.sender_agent || "Case manager";
      return message.author ? `${role} (${message.author})` : role;
    }
    if (message.sender === "system") return texts.sender_system || "Notice";
    return "Lotse";
  }

  function sources(message, texts) {
    const list = element("ul", "msg__sources");
    list.setAttribute("aria-label", texts.sources || "Sources");
    for (const source of message.sources) {
      // The list runs in the answer's direction; a German title inside it keeps its own.
      const li = element("li");
      const href = safeUrl(source.url);
      const title = element(href ? "a" : "span", null, source.title || href);
      title.dir = "auto";
      if (href) { title.href = href; title.target = "_blank"; title.rel = "noopener noreferrer"; }
      li.appendChild(title);
      list.appendChild(li);
    }
    return list;
  }

  function renderMessage(message, texts, onButton) {
    const item = element("div", "msg msg--" + message.sender);
    item.setAttribute("dir", message.dir || "auto");
    if (message.language) item.setAttribute("lang", message.language);
    item.dataset.seq = String(message.seq ?? "");
    const visible = message.sender === "agent" || message.sender === "system";
    item.appendChild(element("div", visible ? "msg__sender" : "msg__sender visually-hidden",
      senderLabel(message, texts)));
    item.appendChild(element("div", "msg__text", message.text));
    if (message.original_text) {  // a case manager's words, translated: the original below
      const original = element("div", "msg__original");
      original.appendChild(element("span", "msg__original-label", texts.translated_original || "Original:"));
      const words = element("span", "msg__original-text", message.original_text);
      words.dir = "auto";
      if (message.original_language) words.lang = message.original_language;
      original.append(" ", words);
      item.appendChild(original);
    }
    if (message.sources && message.sources.length) item.appendChild(sources(message, texts));
    if (message.buttons && message.buttons.length) {
      const group = element("div", "msg__buttons");
      group.setAttribute("role", "group");
      for (const button of message.buttons) {
        const b = element("button", null, button.title);
        b.type = "button";
        b.addEventListener("click", () => onButton(button.payload, button.title));
        group.appendChild(b);
      }
      item.appendChild(group);
    }
    return item;
  }

  const MODE_KEYS = { waiting: "handoff_waiting", human: "handoff_with_human" };
  function modeText(mode, texts) {
    return MODE_KEYS[mode] ? texts[MODE_KEYS[mode]] || "" : "";
  }

  return { API, api, safeUrl, element, renderMessage, modeText };
})();
