// seed-qa chat page. Every document or answer text goes in with textContent / text nodes,
// never innerHTML, so a seed file containing markup renders inertly.
"use strict";

const ABSTAIN = "The documents don't cover this.";
const KEY_STORE = "seed-qa.apiKey";
const SESSION_STORE = "seed-qa.sessionId";

const $ = (id) => document.getElementById(id);
const log = $("log");
const form = $("ask-form");
const input = $("question");
const send = $("send");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function headers() {
  const h = { "Content-Type": "application/json", Accept: "text/event-stream" };
  const key = localStorage.getItem(KEY_STORE);
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error) {
      if (response.status === 401) return body.error.message + " Enter the key under “API key”.";
      return body.error.message;
    }
  } catch (_) { /* not JSON */ }
  return "The server answered " + response.status + ".";
}

// Parse Server-Sent Events from a fetch body (EventSource cannot POST).
async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
    }
  }
}

function addMessage(kind, text) {
  const hint = log.querySelector(".hint");
  if (hint) hint.remove();
  const item = el("li", kind);
  if (text !== undefined) item.textContent = text;
  log.append(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

function renderAnswer(item, data) {
  item.classList.remove("pending");
  item.replaceChildren();
  if (data.status !== "answered") {
    item.classList.add("abstained");
    item.append(el("p", "answer", ABSTAIN));
    if (data.message && data.message !== ABSTAIN) item.append(el("p", "sentence", data.message));
    return;
  }
  const answer = el("p", "answer", data.answer);
  for (const citation of data.citations) {
    const button = el("button", "cite", "[" + citation.n + "]");
    button.type = "button";
    button.title = citation.title + ": " + citation.quote;
    button.setAttribute("aria-label", "Show source " + citation.n + ": " + citation.title);
    button.addEventListener("click", () => openSource(citation));
    answer.append(button);
  }
  item.append(answer);
  if (data.sentence && data.sentence !== data.answer) item.append(el("p", "sentence", data.sentence));
  const sources = el("ul", "sources");
  for (const citation of data.citations) {
    sources.append(el("li", "", "[" + citation.n + "] " + citation.title + " (" + citation.source + ")"));
  }
  item.append(sources);
}

async function ask(question, retried) {
  const item = addMessage("bot pending");
  const text = el("p", "answer");
  item.append(text);
  const response = await fetch("/api/chat", {
    method: "POST",
    headers: headers(),
    body: JSON.stringify({ message: question, session_id: sessionStorage.getItem(SESSION_STORE), stream: true }),
  });
  if (!response.ok) {
    if (response.status === 404 && !retried && sessionStorage.getItem(SESSION_STORE)) {
      sessionStorage.removeItem(SESSION_STORE); // expired: start a new chat and ask again
      item.remove();
      return ask(question, true);
    }
    item.classList.remove("pending");
    item.replaceChildren(el("p", "error", await errorMessage(response)));
    return;
  }
  for await (const { event, data } of readEvents(response)) {
    if (event === "delta") {
      text.append(document.createTextNode(data.text));
      item.scrollIntoView({ block: "end" });
    } else if (event === "done") {
      sessionStorage.setItem(SESSION_STORE, data.session_id);
      renderAnswer(item, data);
    } else if (event === "error") {
      item.classList.remove("pending");
      item.replaceChildren(el("p", "error", data.error.message));
    }
  }
}

async function openSource(citation) {
  const panel = $("source");
  const body = $("source-text");
  $("source-title").textContent = citation.title;
  $("source-meta").textContent = citation.source + ", characters " + citation.start + "–" + citation.end;
  body.replaceChildren(el("p", "meta", "Loading…"));
  panel.hidden = false;
  const response = await fetch("/api/documents/" + encodeURIComponent(citation.doc_id), { headers: headers() });
  if (!response.ok) {
    body.replaceChildren(el("p", "error", await errorMessage(response)));
    return;
  }
  const doc = await response.json();
  const mark = el("mark", "", doc.text.slice(citation.start, citation.end));
  body.replaceChildren(
    document.createTextNode(doc.text.slice(0, citation.start)),
    mark,
    document.createTextNode(doc.text.slice(citation.end)),
  );
  mark.scrollIntoView({ block: "center" });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const question = input.value.trim();
  if (!question || send.disabled) return;
  addMessage("user", question);
  input.value = "";
  send.disabled = true;
  try {
    await ask(question, false);
  } catch (error) {
    addMessage("bot error", "Could not reach the server: " + error.message);
  } finally {
    send.disabled = false;
    input.focus();
  }
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

$("new-chat").addEventListener("click", () => {
  sessionStorage.removeItem(SESSION_STORE);
  log.replaceChildren(el("li", "hint", "New chat. Ask a question about the documents."));
  $("source").hidden = true;
  input.focus();
});

$("source-close").addEventListener("click", () => { $("source").hidden = true; });

$("api-key").value = localStorage.getItem(KEY_STORE) || "";
$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (key) localStorage.setItem(KEY_STORE, key);
  else localStorage.removeItem(KEY_STORE);
  $("key-form").closest("details").open = false;
});
