// Lotse console: live badge for new cases, live transcript on a case page. Text only, no HTML
// from the server is built here except the transcript fragment the server rendered (escaped).
(() => {
  "use strict";
  const badge = document.getElementById("badge");
  const notice = document.getElementById("notice");
  const caseId = document.body.dataset.case;
  if (!badge) return; // login page

  function show(text) {
    notice.textContent = text;
    notice.hidden = false;
  }

  async function refreshTranscript() {
    const response = await fetch(`/console/cases/${caseId}/transcript`, { credentials: "same-origin" });
    if (!response.ok) return;
    const current = document.getElementById("transcript");
    const template = document.createElement("template");
    template.innerHTML = await response.text(); // server-rendered with Jinja autoescape
    const fresh = template.content.getElementById("transcript");
    if (current && fresh) current.replaceWith(fresh);
  }

  const events = new EventSource("/console/events");
  events.addEventListener("case_created", (event) => {
    const data = JSON.parse(event.data);
    badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1);
    show(`Neuer Fall #${data.case_id} (${data.language}${data.urgency === "urgent" ? ", dringend" : ""}) – Seite neu laden.`);
    document.title = "● " + document.title.replace(/^● /, "");
  });
  events.addEventListener("case_message", (event) => {
    const data = JSON.parse(event.data);
    if (caseId && String(data.case_id) === caseId) refreshTranscript();
    else show(`Neue Nachricht in Fall #${data.case_id}.`);
  });
})();
