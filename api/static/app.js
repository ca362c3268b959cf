// seed-qa chat page. Every document or answer text goes in with textContent / text nodes,
// never innerHTML, so a seed file containing markup renders inertly.
"use strict";

const ABSTAIN = "The documents don't cover this.";
const NOT_STATED = "Not stated directly. Closest passages:";
const KEY_STORE = "seed-qa.apiKey";
const SESSION_STORE = "seed-qa.sessionId";
const COLLECTION_STORE = "seed-qa.collection";

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

// The collection every question, document and chat of the page goes to (the selector in the bar).
function collection() {
  return $("collection").value || "default";
}

function inCollection(path, name) {
  return path + (path.includes("?") ? "&" : "?") + "collection=" + encodeURIComponent(name || collection());
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

// A citation's page (PDF) or slide (PPTX), 1-based; null or absent for formats without pages.
function hasPage(citation) {
  return Number.isInteger(citation.page) && citation.page > 0;
}

function pageSuffix(citation, prefix) {
  return hasPage(citation) ? prefix + citation.page : "";
}

function renderAnswer(item, data) {
  item.classList.remove("pending");
  item.replaceChildren();
  if (data.status !== "answered") {
    item.classList.add("abstained");
    const related = data.related || [];
    item.append(el("p", "answer", related.length ? NOT_STATED : ABSTAIN));
    if (data.message && data.message !== ABSTAIN) item.append(el("p", "sentence", data.message));
    if (related.length) item.append(renderRelated(related, data.collection));
    if (data.id) item.append(voteBar(data));
    return;
  }
  const answer = el("p", "answer", data.answer);
  for (const citation of data.citations) {
    const button = el("button", "cite", "[" + citation.n + "]");
    button.type = "button";
    button.title = citation.title + pageSuffix(citation, ", page ") + ": " + citation.quote;
    button.setAttribute("aria-label", "Show source " + citation.n + ": " + citation.title + pageSuffix(citation, ", page "));
    button.addEventListener("click", () => openSource(citation, data.collection));
    answer.append(button);
  }
  item.append(answer);
  if (data.sentence && data.sentence !== data.answer) item.append(el("p", "sentence", data.sentence));
  const sources = el("ul", "sources");
  for (const citation of data.citations) {
    const entry = el("li", "", "[" + citation.n + "] " + citation.title + " (" + citation.source);
    if (hasPage(citation)) entry.append(el("span", "page", ", p. " + citation.page));
    entry.append(document.createTextNode(")"));
    sources.append(entry);
  }
  item.append(sources);
  if (data.id) item.append(voteBar(data));
}

// Thumbs up/down under an answer; a down vote offers a comment and the right answer.
function voteBar(data) {
  const bar = el("div", "votes");
  const status = el("span", "meta-inline");
  const up = el("button", "vote-up", "👍");
  const down = el("button", "vote-down", "👎");
  for (const [button, label] of [[up, "Helpful"], [down, "Not helpful"]]) {
    button.type = "button";
    button.setAttribute("aria-label", label);
    button.setAttribute("aria-pressed", "false");
  }
  async function send(vote, comment, correction) {
    const response = await fetch("/api/feedback", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ answer_id: data.id, vote, comment: comment || null, correction: correction || null, source: "page" }),
    });
    if (!response.ok) { status.textContent = await errorMessage(response); return; }
    up.setAttribute("aria-pressed", String(vote === "up"));
    down.setAttribute("aria-pressed", String(vote === "down"));
    status.textContent = "Thanks, noted.";
  }
  up.addEventListener("click", () => send("up"));
  down.addEventListener("click", () => {
    if (bar.querySelector("form")) return;
    const more = el("form", "vote-form");
    const comment = el("input");
    comment.placeholder = "What was wrong? (optional)";
    comment.setAttribute("aria-label", "Comment");
    comment.maxLength = 2000;
    const correction = el("input");
    correction.placeholder = "The right answer (optional)";
    correction.setAttribute("aria-label", "Corrected answer");
    correction.maxLength = 2000;
    const submit = el("button", "", "Send");
    submit.type = "submit";
    more.append(comment, correction, submit);
    more.addEventListener("submit", (event) => {
      event.preventDefault();
      send("down", comment.value.trim(), correction.value.trim());
      more.remove();
    });
    bar.append(more);
    comment.focus();
  });
  bar.append(up, down, status);
  return bar;
}

// An abstention's closest passages: each quote with a link that opens it in the source viewer.
function renderRelated(related, collection) {
  const list = el("ol", "related");
  for (const passage of related) {
    const entry = el("li");
    entry.append(el("q", "", passage.quote));
    const link = el("button", "related-source", passage.title + pageSuffix(passage, ", p. "));
    link.type = "button";
    link.setAttribute("aria-label", "Show passage " + passage.n + " in " + passage.title + pageSuffix(passage, ", page "));
    link.addEventListener("click", () => openSource(passage, collection));
    entry.append(" ", link);
    list.append(entry);
  }
  return list;
}

async function ask(question, retried) {
  const item = addMessage("bot pending");
  const text = el("p", "answer");
  item.append(text);
  const response = await fetch("/api/chat", {
    method: "POST",
    headers: headers(),
    body: JSON.stringify({
      message: question, session_id: sessionStorage.getItem(SESSION_STORE), stream: true, collection: collection(),
    }),
  });
  if (!response.ok) {
    if (response.status === 404 && !retried && sessionStorage.getItem(SESSION_STORE)) {
      sessionStorage.removeItem(SESSION_STORE); // expired: start a new chat and ask again
      item.remove();
      return ask(question, true);
    }
    const message = await errorMessage(response); // read first: the bubble is done once it is not pending
    item.classList.remove("pending");
    item.replaceChildren(el("p", "error", message));
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

async function openSource(citation, name) {
  const panel = $("source");
  const body = $("source-text");
  $("source-title").textContent = citation.title;
  $("source-meta").textContent =
    citation.source + pageSuffix(citation, ", page ") + ", characters " + citation.start + "–" + citation.end;
  body.replaceChildren(el("p", "meta", "Loading…"));
  $("docs").hidden = true;
  panel.hidden = false;
  const response = await fetch(inCollection("/api/documents/" + encodeURIComponent(citation.doc_id), name), {
    headers: headers(),
  });
  if (!response.ok) {
    body.replaceChildren(el("p", "error", await errorMessage(response)));
    return;
  }
  const doc = await response.json();
  const mark = el("mark", "", doc.text.slice(citation.start, citation.end));
  // "Open the source at that page": a page label right above the passage, both scrolled into view.
  const label = hasPage(citation) ? el("span", "page-label", "Page " + citation.page) : null;
  body.replaceChildren(
    document.createTextNode(doc.text.slice(0, citation.start)),
    ...(label ? [label, mark] : [mark]),
    document.createTextNode(doc.text.slice(citation.end)),
  );
  mark.scrollIntoView({ block: "center" });
  if (label) label.scrollIntoView({ block: "nearest" }); // a long quote: keep its page label in view too
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

function newChat() {
  sessionStorage.removeItem(SESSION_STORE);
  log.replaceChildren(el("li", "hint", "New chat. Ask a question about the documents."));
  $("source").hidden = true;
}

$("new-chat").addEventListener("click", () => { newChat(); input.focus(); });

// A reload keeps the tab's session id: show that conversation again (the server keeps it per key).
async function restoreSession() {
  const id = sessionStorage.getItem(SESSION_STORE);
  if (!id) return;
  const response = await fetch("/api/sessions/" + encodeURIComponent(id), { headers: headers() });
  if (!response.ok) {
    if (response.status === 404) sessionStorage.removeItem(SESSION_STORE);
    return;
  }
  const body = await response.json();
  if (body.collection && body.collection !== collection()) selectCollection(body.collection);
  log.replaceChildren();
  for (const answer of body.answers) {
    addMessage("user", answer.question);
    renderAnswer(addMessage("bot"), answer);
  }
  if (!body.answers.length) log.append(el("li", "hint", "Ask a question about the documents."));
}

// Collections: the selector lists those the key may read; the choice is remembered.
function selectCollection(name) {
  const select = $("collection");
  if (![...select.options].some((o) => o.value === name)) select.append(new Option(name, name));
  select.value = name;
  localStorage.setItem(COLLECTION_STORE, name);
}

async function loadCollections() {
  const response = await fetch("/api/collections", { headers: authHeaders() });
  if (!response.ok) return;
  const body = await response.json();
  const select = $("collection");
  const wanted = localStorage.getItem(COLLECTION_STORE) || select.value;
  select.replaceChildren(...body.collections.map((c) => new Option(c.name, c.name)));
  if (body.collections.some((c) => c.name === wanted)) select.value = wanted;
}

$("collection").addEventListener("change", () => {
  localStorage.setItem(COLLECTION_STORE, collection());
  newChat();
  if (!docsPanel.hidden) refreshDocs();
});

// Past chats of this key.
async function refreshChats() {
  const list = $("chat-list");
  const response = await fetch("/api/sessions", { headers: authHeaders() });
  if (!response.ok) { list.replaceChildren(el("li", "error", await errorMessage(response))); return; }
  const body = await response.json();
  list.replaceChildren();
  for (const chat of body.sessions) {
    const row = el("li");
    const open = el("button", "name", chat.title || chat.session_id);
    open.type = "button";
    open.addEventListener("click", async () => {
      sessionStorage.setItem(SESSION_STORE, chat.session_id);
      selectCollection(chat.collection);
      await restoreSession();
      $("chats").hidden = true;
    });
    row.append(open, el("span", "state", chat.collection + " · " + chat.turns + (chat.turns === 1 ? " turn" : " turns")));
    list.append(row);
  }
  if (!body.sessions.length) list.append(el("li", "meta", "No chats yet."));
}

$("chats-open").addEventListener("click", () => { $("chats").hidden = false; refreshChats(); });
$("chats-close").addEventListener("click", () => { $("chats").hidden = true; });

// What the documents do not answer (admins).
async function refreshGaps() {
  const list = $("gap-list");
  const response = await fetch(inCollection("/api/gaps"), { headers: authHeaders() });
  if (!response.ok) { list.replaceChildren(el("li", "error", await errorMessage(response))); return; }
  const body = await response.json();
  list.replaceChildren();
  for (const gap of body.gaps) {
    const row = el("li");
    const name = el("span", "name", gap.question);
    for (const passage of gap.closest.slice(0, 1)) {
      name.append(el("span", "closest", "closest: " + passage.source + ": " + passage.text.slice(0, 120)));
    }
    const when = new Date(gap.last_asked * 1000).toLocaleString();
    row.append(name, el("span", "state", "×" + gap.count + " · " + gap.abstained + " unanswered · " +
      gap.down_votes + " 👎 · " + when));
    list.append(row);
  }
  if (!body.gaps.length) list.append(el("li", "meta", "No gaps: every question was answered."));
}

$("gaps-open").addEventListener("click", () => { $("gaps").hidden = false; refreshGaps(); });
$("gaps-close").addEventListener("click", () => { $("gaps").hidden = true; });

$("source-close").addEventListener("click", () => { $("source").hidden = true; });

$("api-key").value = localStorage.getItem(KEY_STORE) || "";
$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (key) localStorage.setItem(KEY_STORE, key);
  else localStorage.removeItem(KEY_STORE);
  $("key-form").closest("details").open = false;
});

// Documents panel: upload (pick or drop), per-file status, delete. Uploads go through
// XMLHttpRequest because fetch reports no upload progress.
const docsPanel = $("docs");
const docList = $("doc-list");
const docStatus = $("doc-status");
const docProgress = $("doc-progress");
const docFiles = $("doc-files");
const drop = $("drop");
const STATE_TEXT = {
  indexed: "indexed", indexing: "indexing…", removing: "removing…", skipped: "skipped", not_indexed: "not indexed",
};
let docsTimer = null;

function authHeaders() {
  const key = localStorage.getItem(KEY_STORE);
  return key ? { Authorization: "Bearer " + key } : {};
}

function renderFiles(files) {
  docList.replaceChildren();
  for (const file of files) {
    const row = el("li");
    row.dataset.source = file.source;
    const name = el("span", "name", file.source);
    if (file.reason) name.append(el("span", "reason", file.reason));
    const state = el("span", "state " + file.status, STATE_TEXT[file.status] || file.status);
    const remove = el("button", "delete", "Delete");
    remove.type = "button";
    remove.setAttribute("aria-label", "Delete " + file.source);
    remove.disabled = file.status === "removing";
    remove.addEventListener("click", () => deleteDocument(file));
    row.append(name, state, remove);
    docList.append(row);
  }
  if (!files.length) docList.append(el("li", "meta", "No documents yet: add some above."));
}

async function refreshDocs() {
  clearTimeout(docsTimer);
  docsTimer = null;
  let response;
  try {
    response = await fetch(inCollection("/api/documents"), { headers: authHeaders() });
  } catch (error) {
    docStatus.textContent = "Could not reach the server: " + error.message;
    return;
  }
  if (!response.ok) {
    docStatus.textContent = await errorMessage(response);
    if (response.status === 503) docsTimer = setTimeout(refreshDocs, 1000);
    return;
  }
  const body = await response.json();
  if (body.upload_types && body.upload_types.length) {
    $("doc-types").textContent = body.upload_types.join(" ");
    docFiles.accept = body.upload_types.join(",");
  }
  renderFiles(body.files);
  refreshTrash();
  const busy = body.files.some((f) => f.status === "indexing" || f.status === "removing");
  if (busy) docsTimer = setTimeout(refreshDocs, 700);
  else if (docStatus.dataset.busy) { docStatus.textContent = "All documents are indexed."; delete docStatus.dataset.busy; }
}

function uploadFiles(files) {
  if (!files.length) return;
  const data = new FormData();
  for (const file of files) data.append("files", file, file.name);
  const request = new XMLHttpRequest();
  request.open("POST", inCollection("/api/documents"));
  for (const [name, value] of Object.entries(authHeaders())) request.setRequestHeader(name, value);
  docProgress.hidden = false;
  docProgress.value = 0;
  docStatus.textContent = "Uploading " + files.length + (files.length === 1 ? " file…" : " files…");
  request.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) docProgress.value = Math.round((100 * event.loaded) / event.total);
  });
  request.addEventListener("load", () => {
    docProgress.hidden = true;
    let body = null;
    try { body = JSON.parse(request.responseText); } catch (_) { /* not JSON */ }
    if (request.status === 202 && body) {
      docStatus.textContent = "Uploaded " + body.files.map((f) => f.source).join(", ") + "; indexing…";
      docStatus.dataset.busy = "1";
    } else {
      const message = body && body.error ? body.error.message : "The server answered " + request.status + ".";
      docStatus.textContent = request.status === 401 ? message + " Enter the key under “API key”." : message;
    }
    refreshDocs();
  });
  request.addEventListener("error", () => {
    docProgress.hidden = true;
    docStatus.textContent = "Could not reach the server; the upload did not finish.";
  });
  request.send(data);
}

async function deleteDocument(file) {
  const where = file.uploaded ? "It moves to the trash." : "The file stays on disk; it is only left out.";
  if (!window.confirm("Delete " + file.source + " from the answers? " + where + " You can restore it.")) return;
  const response = await fetch(inCollection("/api/documents/" + encodeURIComponent(file.id)), {
    method: "DELETE", headers: authHeaders(),
  });
  if (!response.ok) docStatus.textContent = await errorMessage(response);
  else { docStatus.textContent = "Deleting " + file.source + "…"; docStatus.dataset.busy = "1"; }
  refreshDocs();
}

async function refreshTrash() {
  const list = $("trash-list");
  const response = await fetch(inCollection("/api/trash"), { headers: authHeaders() });
  if (!response.ok) { list.replaceChildren(); return; }
  const body = await response.json();
  list.replaceChildren();
  for (const entry of body.entries) {
    const row = el("li");
    const until = entry.expires_at ? "kept until " + new Date(entry.expires_at * 1000).toLocaleDateString() : "hidden";
    const restore = el("button", "restore", "Restore");
    restore.type = "button";
    restore.setAttribute("aria-label", "Restore " + entry.source);
    restore.addEventListener("click", async () => {
      const answer = await fetch(inCollection("/api/trash/" + encodeURIComponent(entry.id) + "/restore"), {
        method: "POST", headers: authHeaders(),
      });
      docStatus.textContent = answer.ok ? "Restoring " + entry.source + "…" : await errorMessage(answer);
      if (answer.ok) docStatus.dataset.busy = "1";
      refreshDocs();
    });
    row.append(el("span", "name", entry.source), el("span", "state", until), restore);
    list.append(row);
  }
  if (!body.entries.length) list.append(el("li", "meta", "The trash is empty."));
}

$("collection-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("collection-name").value.trim();
  if (!name) return;
  const response = await fetch("/api/collections", { method: "POST", headers: headers(), body: JSON.stringify({ name }) });
  if (!response.ok) { docStatus.textContent = await errorMessage(response); return; }
  $("collection-name").value = "";
  await loadCollections();
  selectCollection(name);
  newChat();
  refreshDocs();
});

$("collection-delete").addEventListener("click", async () => {
  const name = collection();
  if (!window.confirm("Delete the collection " + name + "? Its files are kept aside on the server.")) return;
  const response = await fetch("/api/collections/" + encodeURIComponent(name), { method: "DELETE", headers: authHeaders() });
  if (!response.ok) { docStatus.textContent = await errorMessage(response); return; }
  localStorage.removeItem(COLLECTION_STORE);
  await loadCollections();
  newChat();
  refreshDocs();
});

$("docs-open").addEventListener("click", () => {
  $("source").hidden = true;
  docsPanel.hidden = false;
  refreshDocs();
});
$("docs-close").addEventListener("click", () => {
  docsPanel.hidden = true;
  clearTimeout(docsTimer);
});
docFiles.addEventListener("change", () => {
  uploadFiles(Array.from(docFiles.files));
  docFiles.value = "";
});
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  uploadFiles(Array.from(event.dataTransfer.files));
});

loadCollections().then(restoreSession);
