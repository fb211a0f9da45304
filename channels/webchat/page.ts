// The web chat page: one HTML document and one script, no framework, no external assets.
// The script keeps the chat id and the transcript in localStorage, reconnects with backoff,
// resends messages that were never acknowledged (the gateway drops repeats by message id), shows
// deltas as they arrive and replaces them with the final answer.

export const WEBCHAT_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard</title>
<style>
  :root { color-scheme: light dark; --bg: #f7f7f5; --fg: #1d1d1b; --muted: #77746d; --me: #2f5fd0;
    --me-fg: #fff; --bot: #fff; --line: #e2e0da; }
  @media (prefers-color-scheme: dark) { :root { --bg: #161615; --fg: #ecebe7; --muted: #9a978f;
    --me: #3d6be0; --bot: #232321; --line: #34332f; } }
  * { box-sizing: border-box; }
  html, body { height: 100%; margin: 0; }
  body { display: flex; flex-direction: column; background: var(--bg); color: var(--fg);
    font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
  header { display: flex; align-items: baseline; gap: .75rem; padding: .75rem 1rem;
    border-bottom: 1px solid var(--line); }
  header h1 { font-size: 1rem; margin: 0; }
  #status { color: var(--muted); font-size: .85rem; }
  #messages { flex: 1; overflow-y: auto; padding: 1rem; display: flex; flex-direction: column; gap: .6rem; }
  .msg { max-width: 46rem; padding: .55rem .8rem; border-radius: .8rem; white-space: pre-wrap;
    overflow-wrap: anywhere; }
  .msg.user { align-self: flex-end; background: var(--me); color: var(--me-fg); }
  .msg.user[data-state="pending"] { opacity: .6; }
  .msg.assistant { align-self: flex-start; background: var(--bot); border: 1px solid var(--line); }
  .msg.assistant[data-state="streaming"]::after { content: "\\2026"; color: var(--muted); }
  .msg.error { align-self: center; color: #c0392b; font-size: .9rem; }
  #activity { padding: 0 1rem .4rem; color: var(--muted); font-size: .85rem; }
  form { display: flex; gap: .5rem; padding: .75rem 1rem; border-top: 1px solid var(--line); }
  textarea { flex: 1; resize: none; font: inherit; padding: .5rem .7rem; border-radius: .6rem;
    border: 1px solid var(--line); background: var(--bot); color: var(--fg); }
  button { font: inherit; padding: .5rem 1rem; border: 0; border-radius: .6rem; background: var(--me);
    color: var(--me-fg); cursor: pointer; }
  #attach { background: transparent; color: var(--fg); border: 1px solid var(--line); padding: .5rem .7rem; }
  #files { display: flex; flex-wrap: wrap; gap: .4rem; padding: 0 1rem; }
  #files:empty { display: none; }
  .chip { font-size: .85rem; padding: .2rem .5rem; border: 1px solid var(--line); border-radius: .5rem; }
  .chip button { padding: 0 .3rem; margin-left: .3rem; background: transparent; color: var(--muted); }
  .msg .file { display: block; margin-top: .4rem; color: inherit; }
  .msg img.file { max-width: min(100%, 22rem); max-height: 22rem; border-radius: .5rem; }
  .msg.note { align-self: center; max-width: 40rem; color: var(--muted); font-size: .9rem; text-align: center; }
  #setup { margin: 0 1rem .75rem; padding: .9rem 1rem; border: 1px solid var(--line); border-radius: .8rem;
    background: var(--bot); display: flex; flex-direction: column; gap: .6rem; }
  #setup[hidden] { display: none; }
  #setup p { margin: 0; }
  #setup .problem { color: #c0392b; }
  #setup .choices { display: flex; flex-wrap: wrap; gap: .5rem; }
  #setup form { display: flex; flex-direction: column; gap: .5rem; padding: 0; border: 0; }
  #setup label { display: flex; flex-direction: column; gap: .2rem; font-size: .9rem; }
  #setup input { font: inherit; padding: .45rem .6rem; border-radius: .5rem; border: 1px solid var(--line);
    background: var(--bg); color: var(--fg); }
  #setup .actions { display: flex; gap: .5rem; }
  #setup .back { background: transparent; color: var(--fg); border: 1px solid var(--line); }
</style>
</head>
<body>
<header><h1>Switchyard</h1><span id="status">connecting…</span></header>
<main id="messages" aria-live="polite"></main>
<div id="activity" role="status" hidden></div>
<section id="setup" aria-live="polite" hidden></section>
<div id="files" aria-label="files to send"></div>
<form id="composer">
  <button id="attach" type="button" title="Attach files" aria-label="Attach files">+</button>
  <input id="file" type="file" multiple hidden>
  <textarea id="input" rows="2" placeholder="Message (Enter to send, Shift+Enter for a new line)"
    autofocus></textarea>
  <button id="send" type="submit">Send</button>
</form>
<script src="/chat/app.js"></script>
</body>
</html>
`;

export const WEBCHAT_SCRIPT = `'use strict';
(() => {
  const KEEP = 200;
  const randomId = () => {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  };
  let chatId = localStorage.getItem('switchyard.webchat.chatId');
  if (!chatId || !/^[A-Za-z0-9_-]{8,64}$/.test(chatId)) {
    chatId = randomId();
    localStorage.setItem('switchyard.webchat.chatId', chatId);
  }
  const logKey = 'switchyard.webchat.log.' + chatId;
  // Entries: {role:'user', id, text, acked, files?} | {role:'assistant', id, replyTo, text, files?}
  // files: [{sha256, mime, name}] — uploaded to /chat/upload, shown from /chat/media/<sha256>.
  let log = [];
  try { log = JSON.parse(localStorage.getItem(logKey) || '[]'); } catch { log = []; }
  const save = () => localStorage.setItem(logKey, JSON.stringify(log.slice(-KEEP)));

  const list = document.getElementById('messages');
  const input = document.getElementById('input');
  const status = document.getElementById('status');
  const activity = document.getElementById('activity');
  const tools = new Map(); // replyTo -> tools in use, in the order they started
  const showActivity = () => {
    const using = [...tools.values()].flat();
    activity.textContent = using.length ? 'Using ' + using.join(', ') + '…' : '';
    activity.hidden = using.length === 0;
  };
  const streams = new Map(); // replyTo -> element showing streamed text
  const near = () => list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const scroll = (stick) => { if (stick) list.scrollTop = list.scrollHeight; };

  function bubble(className, text, state) {
    const el = document.createElement('div');
    el.className = 'msg ' + className;
    el.textContent = text;
    if (state) el.dataset.state = state;
    list.appendChild(el);
    return el;
  }
  const INLINE = /^image[/](jpeg|png|gif|webp)$/;
  function showFiles(el, files) {
    for (const f of files || []) {
      const src = '/chat/media/' + f.sha256 + '?type=' + encodeURIComponent(f.mime);
      let node;
      if (INLINE.test(f.mime)) {
        node = document.createElement('img');
        node.src = src;
        node.alt = f.name || 'image';
      } else {
        node = document.createElement('a');
        node.href = src;
        node.textContent = '\u{1F4CE} ' + (f.name || f.mime);
        node.download = f.name || 'file';
      }
      node.className = 'file';
      node.dataset.sha256 = f.sha256;
      el.appendChild(node);
    }
  }
  function render(entry) {
    if (entry.role === 'user') {
      const el = bubble('user', entry.text, entry.acked ? 'sent' : 'pending');
      el.dataset.id = entry.id;
      showFiles(el, entry.files);
    } else {
      const el = bubble('assistant', entry.text, 'final');
      el.dataset.id = entry.id;
      if (entry.replyTo) el.dataset.replyTo = entry.replyTo;
      showFiles(el, entry.files);
    }
  }
  for (const entry of log) render(entry);
  scroll(true);

  let socket;
  let backoff = 250;
  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }
  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(scheme + '//' + location.host + '/chat/ws?chatId=' + encodeURIComponent(chatId));
    socket.onopen = () => {
      backoff = 250;
      status.textContent = 'connected';
      document.body.dataset.connection = 'open';
      // Never acknowledged: the gateway may not have it. Resending is safe (dropped by message id).
      for (const entry of log) {
        if (entry.role === 'user' && !entry.acked) send(messageFrame(entry));
      }
    };
    socket.onclose = () => {
      document.body.dataset.connection = 'closed';
      status.textContent = 'offline, reconnecting…';
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
    socket.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      const stick = near();
      if (frame.type === 'ack') {
        const entry = log.find((e) => e.role === 'user' && e.id === frame.clientMessageId);
        if (entry) { entry.acked = true; save(); }
        const el = list.querySelector('.msg.user[data-id="' + frame.clientMessageId + '"]');
        if (el) el.dataset.state = 'sent';
      } else if (frame.type === 'delta') {
        if (log.some((e) => e.role === 'assistant' && e.replyTo === frame.replyTo)) return;
        let el = streams.get(frame.replyTo);
        if (!el) {
          el = bubble('assistant', '', 'streaming');
          el.dataset.replyTo = frame.replyTo;
          streams.set(frame.replyTo, el);
        }
        el.textContent += frame.text;
      } else if (frame.type === 'activity') {
        const using = tools.get(frame.replyTo) || [];
        if (frame.phase === 'start') using.push(frame.tool);
        else if (using.includes(frame.tool)) using.splice(using.indexOf(frame.tool), 1);
        if (using.length) tools.set(frame.replyTo, using); else tools.delete(frame.replyTo);
        showActivity();
      } else if (frame.type === 'final') {
        if (frame.replyTo && tools.delete(frame.replyTo)) showActivity();
        if (log.some((e) => e.role === 'assistant' && e.id === frame.messageId)) return;
        const entry = { role: 'assistant', id: frame.messageId, replyTo: frame.replyTo, text: frame.text };
        if (frame.attachments && frame.attachments.length) entry.files = frame.attachments;
        log.push(entry);
        save();
        const el = frame.replyTo && streams.get(frame.replyTo);
        if (el) {
          streams.delete(frame.replyTo);
          el.textContent = frame.text;
          el.dataset.state = 'final';
          el.dataset.id = frame.messageId;
          showFiles(el, entry.files);
        } else {
          render(entry);
        }
      } else if (frame.type === 'setup') {
        showSetup(frame.view);
      } else if (frame.type === 'error') {
        bubble('error', frame.message);
      }
      scroll(stick);
    };
  }

  // Onboarding (no model yet): pick a provider, fill its form. A key goes out in a setup frame
  // only; it is never put in the transcript, localStorage or a message, and the field is cleared.
  const setupPanel = document.getElementById('setup');
  function el(tag, props, text) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function showSetup(view) {
    document.body.dataset.setup = view.step;
    setupPanel.replaceChildren();
    if (view.step === 'done') {
      setupPanel.hidden = true;
      bubble('note', view.text);
      scroll(true);
      return;
    }
    setupPanel.hidden = false;
    setupPanel.appendChild(el('p', { className: 'intro' }, view.text));
    if (view.error) setupPanel.appendChild(el('p', { className: 'problem', role: 'alert' }, view.error));
    if (view.step === 'provider') {
      const row = el('div', { className: 'choices' });
      for (const choice of view.choices || []) {
        const button = el('button', { type: 'button', className: 'choice' }, choice.label);
        button.dataset.provider = choice.id;
        button.addEventListener('click', () => send({ type: 'setup', action: 'choose', provider: choice.id }));
        row.appendChild(button);
      }
      setupPanel.appendChild(row);
      return;
    }
    const form = el('form', { id: 'setup-form', autocomplete: 'off' });
    for (const field of view.fields || []) {
      const label = el('label', {}, field.label);
      const input = el('input', {
        name: field.name,
        type: field.secret ? 'password' : 'text',
        required: field.required,
        autocomplete: field.secret ? 'new-password' : 'off',
        spellcheck: false,
      });
      if (field.value) input.value = field.value;
      if (field.placeholder) input.placeholder = field.placeholder;
      label.appendChild(input);
      form.appendChild(label);
    }
    const actions = el('div', { className: 'actions' });
    const submit = el('button', { type: 'submit', id: 'setup-submit' }, 'Test and save');
    const back = el('button', { type: 'button', className: 'back' }, 'Back');
    back.addEventListener('click', () => send({ type: 'setup', action: 'back' }));
    actions.append(submit, back);
    form.appendChild(actions);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values = {};
      for (const input of form.querySelectorAll('input')) {
        values[input.name] = input.value;
        if (input.type === 'password') input.value = '';
      }
      submit.disabled = true;
      submit.textContent = 'Testing…';
      document.body.dataset.setup = 'testing';
      send({ type: 'setup', action: 'submit', values });
    });
    setupPanel.appendChild(form);
    const first = form.querySelector('input');
    if (first) first.focus();
  }

  function messageFrame(entry) {
    const frame = { type: 'message', text: entry.text, clientMessageId: entry.id };
    if (entry.files && entry.files.length) {
      frame.attachments = entry.files.map((f) => {
        const a = { sha256: f.sha256, mime: f.mime };
        if (f.name) a.name = f.name;
        return a;
      });
    }
    return frame;
  }

  // Files chosen but not sent yet.
  let chosen = [];
  const filesEl = document.getElementById('files');
  const picker = document.getElementById('file');
  function showChosen() {
    filesEl.textContent = '';
    chosen.forEach((file, i) => {
      const chip = document.createElement('span');
      chip.className = 'chip';
      chip.textContent = file.name;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = '\u00d7';
      remove.title = 'Remove';
      remove.addEventListener('click', () => { chosen.splice(i, 1); showChosen(); });
      chip.appendChild(remove);
      filesEl.appendChild(chip);
    });
  }
  document.getElementById('attach').addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => {
    chosen = chosen.concat(Array.from(picker.files || []));
    picker.value = '';
    showChosen();
  });

  async function upload(file) {
    const res = await fetch('/chat/upload?name=' + encodeURIComponent(file.name), {
      method: 'POST',
      headers: { 'content-type': file.type || 'application/octet-stream' },
      body: file,
    });
    let answer = {};
    try { answer = await res.json(); } catch {}
    if (!res.ok) throw new Error(file.name + ': ' + (answer.error || ('upload failed (' + res.status + ')')));
    return { sha256: answer.sha256, mime: answer.mime, name: file.name };
  }

  async function submit() {
    const text = input.value.trim();
    if (!text && chosen.length === 0) return;
    const files = chosen;
    let uploaded = [];
    try {
      uploaded = await Promise.all(files.map(upload));
    } catch (error) {
      bubble('error', String(error.message || error));
      return;
    }
    input.value = '';
    chosen = [];
    showChosen();
    const entry = { role: 'user', id: randomId(), text, acked: false };
    if (uploaded.length) entry.files = uploaded;
    log.push(entry);
    save();
    render(entry);
    scroll(true);
    send(messageFrame(entry));
  }
  document.getElementById('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void submit();
    }
  });
  connect();
})();
`;
