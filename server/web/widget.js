// Lotse chat widget for municipal websites. One tag on the page:
//   <script src="https://HUB/widget.js" data-lang="ar" data-region="kreis-kleve" async></script>
// It adds a chat button; the chat itself is the hub's own page in an iframe (/?embed=1), so the
// host page gets no HTML from the hub and the chat keeps the hub's security policy. The hub only
// lets origins listed in LOTSE_WIDGET_ORIGINS frame it. Styles are set through the DOM (never a
// <style> element), so a strict policy on the host page does not break the button.
(() => {
  "use strict";
  const TEXTS = "__LOTSE_TEXTS__";  // filled in by the hub: {code: {open, close, rtl}}
  const script = document.currentScript;
  if (!script || window.lotseWidget) return;
  const hub = new URL(script.src, window.location.href).origin;
  const wanted = (script.dataset.lang || document.documentElement.lang || "de").toLowerCase().split("-")[0];
  const lang = TEXTS[wanted] ? wanted : "de";
  const texts = TEXTS[lang];
  const side = texts.rtl ? "left" : "right";
  const onTop = "2147483000";
  let panel = null, frame = null, isOpen = false;

  const button = document.createElement("button");
  button.type = "button";
  button.lang = lang;
  button.dir = texts.rtl ? "rtl" : "ltr";
  button.setAttribute("aria-expanded", "false");
  button.dataset.lotseWidget = "button";
  Object.assign(button.style, {
    position: "fixed", bottom: "1rem", [side]: "1rem", zIndex: onTop, minHeight: "48px",
    padding: ".75rem 1.1rem", borderRadius: "1.5rem", border: "2px solid #ffffff", cursor: "pointer",
    background: "#0b5394", color: "#ffffff", font: "600 1rem/1.2 system-ui, 'Noto Sans', sans-serif",
    boxShadow: "0 2px 10px rgba(0, 0, 0, .35)",
  });
  button.addEventListener("focus", () => { button.style.outline = "3px solid #b35c00"; button.style.outlineOffset = "2px"; });
  button.addEventListener("blur", () => { button.style.outline = ""; });

  // A drawn icon, not an emoji: host pages and kiosks may have no emoji font.
  function icon(shape) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    Object.assign(svg.style, { verticalAlign: "-4px", marginInlineEnd: ".45rem" });
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", shape);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2.5");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  function label() {
    button.replaceChildren(icon(isOpen ? "M6 6l12 12M18 6L6 18" : "M4 5h16v11H10l-5 4v-4H4z"),
      document.createTextNode(isOpen ? texts.close : texts.open));
  }

  function place() {
    const narrow = window.matchMedia("(max-width: 480px)").matches;
    Object.assign(panel.style, narrow
      ? { top: "0", bottom: "auto", left: "0", right: "0", width: "100vw", height: "calc(100vh - 5rem)", borderRadius: "0" }
      : { top: "auto", bottom: "5rem", left: "auto", right: "auto", [side]: "1rem",
          width: "min(400px, calc(100vw - 2rem))", height: "min(640px, calc(100vh - 6.5rem))", borderRadius: ".75rem" });
  }

  function build() {
    panel = document.createElement("div");
    panel.id = "lotse-widget-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", texts.open);
    Object.assign(panel.style, {
      position: "fixed", zIndex: onTop, overflow: "hidden", background: "#ffffff",
      border: "1px solid #c4ccd6", boxShadow: "0 4px 24px rgba(0, 0, 0, .35)",
    });
    frame = document.createElement("iframe");
    const query = new URLSearchParams({ embed: "1", lang });
    if (script.dataset.region) query.set("region", script.dataset.region);
    frame.src = `${hub}/?${query}`;
    frame.title = texts.open;
    Object.assign(frame.style, { width: "100%", height: "100%", border: "0", display: "block" });
    panel.appendChild(frame);
    document.body.appendChild(panel);
    button.setAttribute("aria-controls", panel.id);
  }

  function open() {
    if (!panel) build();  // no session is created for visitors who never open the chat
    place();
    panel.style.display = "block";
    isOpen = true;
    button.setAttribute("aria-expanded", "true");
    label();
    frame.focus();
  }

  function close() {
    if (!panel) return;
    panel.style.display = "none";
    isOpen = false;
    button.setAttribute("aria-expanded", "false");
    label();
    button.focus();
  }

  button.addEventListener("click", () => (isOpen ? close() : open()));
  window.addEventListener("message", (event) => {
    if (event.origin === hub && frame && event.source === frame.contentWindow
        && event.data && event.data.type === "lotse:close") close();
  });
  window.addEventListener("resize", () => { if (isOpen) place(); });
  window.lotseWidget = { open, close };
  label();
  const mount = () => document.body.appendChild(button);
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
