// The admin page: lists and searches signups, shows each step, retries, approves or rejects, erases. Texts come
// from the page's JSON data block; every value from the API is written with textContent, never as HTML.
(function () {
  'use strict';
  const texts = JSON.parse(document.getElementById('texts').textContent);
  const lang = document.documentElement.lang || 'en';
  const rows = document.getElementById('rows');
  const message = document.getElementById('message');
  const pageSize = 25;
  const refreshMs = 1500;
  const expanded = new Set();
  const query = { state: '', email: '', page: 1 };
  let refreshTimer = null;
  let total = 0;

  function t(key, values) {
    let text = Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : key;
    if (values) Object.keys(values).forEach(name => { text = text.split('{' + name + '}').join(String(values[name])); });
    return text;
  }

  function known(prefix, value) {
    const key = prefix + value;
    return Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : value;
  }

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.keys(props || {}).forEach(name => {
      if (name === 'text') node.textContent = props[name];
      else if (name === 'className') node.className = props[name];
      else if (name === 'dataset') Object.assign(node.dataset, props[name]);
      else node.setAttribute(name, props[name]);
    });
    (children || []).forEach(child => { if (child) node.appendChild(child); });
    return node;
  }

  function when(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    return isNaN(date) ? iso : date.toLocaleString(lang);
  }

  function say(text) { message.textContent = text; }

  async function api(method, url) {
    // POSTs carry a JSON body: the admin API takes nothing else, which a cross-site form cannot send without a preflight.
    const init = { method: method, headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET') {
      init.headers['Content-Type'] = 'application/json';
      init.body = '{}';
    }
    const response = await fetch(url, init);
    const body = await response.json().catch(() => null);
    if (response.status === 401) throw new Error(t('admin.error.session'));
    if (!response.ok) {
      const code = body && (body.code || (response.status === 404 ? 'not-found' : null));
      throw new Error(code && texts['admin.error.' + code] ? t('admin.error.' + code) : (body && body.detail) || t('admin.error.generic'));
    }
    return body;
  }

  function undoing(item) {
    return ['store', 'crm', 'slack'].some(step => item.steps[step] && item.steps[step].status === 'Compensating');
  }

  // --- rendering ------------------------------------------------------------------------------------------------

  // 0 means the step's consumer has not reported a count (yet): say nothing rather than "0 attempts".
  function attempts(step) {
    const count = step.attempts || 0;
    return count > 0 ? (count === 1 ? t('admin.attempts.one') : t('admin.attempts.many', { count: count })) : '';
  }

  function stepsCell(item) {
    return el('td', { className: 'steps-cell' }, ['store', 'crm', 'slack'].map(step => {
      const tried = attempts(item.steps[step]);
      return el('span', { dataset: { step: step } }, [
        document.createTextNode(t('admin.step.' + step) + ': ' + known('status.', item.steps[step].status)),
        tried ? el('span', { className: 'attempts', text: ' · ' + tried }) : null
      ]);
    }));
  }

  function actionButton(label, className, handler, item) {
    const button = el('button', { type: 'button', className: 'small ' + className, text: label });
    button.setAttribute('aria-label', label + ' · ' + (item.email || item.id));
    button.addEventListener('click', () => handler(item, button));
    return button;
  }

  function details(item) {
    const list = el('dl');
    function add(term, value) {
      if (value === null || value === undefined || value === '') return;
      list.appendChild(el('dt', { text: term }));
      list.appendChild(typeof value === 'string' ? el('dd', { text: value }) : el('dd', {}, [value]));
    }
    add(t('admin.detail.id'), item.id);
    add(t('admin.detail.reason'), item.reason);
    ['store', 'crm', 'slack'].forEach(step => {
      const s = item.steps[step];
      const tried = attempts(s);
      add(t('admin.step.' + step), known('status.', s.status) + (s.detail ? ' — ' + s.detail : '') + (tried ? ' · ' + tried : ''));
    });
    add(t('admin.detail.contact'), item.crmContactId);
    add(t('admin.detail.created'), when(item.createdAt));
    add(t('admin.detail.updated'), when(item.updatedAt));
    if (item.traceUrl && /^https?:\/\//.test(item.traceUrl)) {
      add(t('admin.detail.trace'), el('a', { href: item.traceUrl, target: '_blank', rel: 'noopener noreferrer', text: t('admin.detail.openTrace') }));
    } else if (item.traceId) {
      add(t('admin.detail.trace'), item.traceId + ' (' + t('admin.detail.noTrace') + ')');
    }
    return list;
  }

  function render(page) {
    rows.textContent = '';
    page.items.forEach(item => {
      const detailsId = 'details-' + item.id;
      const person = item.erased
        ? el('td', {}, [el('em', { text: t('admin.erased') })])
        : el('td', {}, [el('strong', { text: item.name || '' }), el('br'), el('span', { className: 'email', text: item.email || '' })]);
      const toggle = el('button', { type: 'button', className: 'small secondary', text: t('admin.details'),
        'aria-expanded': String(expanded.has(item.id)), 'aria-controls': detailsId });
      toggle.addEventListener('click', () => {
        const open = !expanded.has(item.id);
        if (open) expanded.add(item.id); else expanded.delete(item.id);
        toggle.setAttribute('aria-expanded', String(open));
        document.getElementById(detailsId).hidden = !open;
      });
      const actions = [toggle];
      // Retry once the failed signup's own undo has finished: the store frees the email only then.
      if (item.state === 'Failed' && !item.erased && !undoing(item)) actions.push(actionButton(t('admin.retry'), 'retry', retry, item));
      if (item.state === 'AwaitingApproval') {
        actions.push(actionButton(t('admin.approve'), 'approve', (i, b) => decide(i, b, 'approve'), item));
        actions.push(actionButton(t('admin.reject'), 'reject danger', (i, b) => decide(i, b, 'reject'), item));
      }
      if (item.final && !item.erased) actions.push(actionButton(t('admin.erase'), 'erase danger', erase, item));

      rows.appendChild(el('tr', { dataset: { id: item.id, state: item.state } }, [
        el('td', { text: when(item.createdAt) }),
        person,
        el('td', {}, [el('span', { className: 'state state-' + item.state, text: known('admin.state.', item.state) })]),
        stepsCell(item),
        el('td', {}, [el('div', { className: 'actions' }, actions)])
      ]));
      const detailRow = el('tr', { id: detailsId, className: 'details' }, [el('td', { colspan: '5' }, [details(item)])]);
      detailRow.hidden = !expanded.has(item.id);
      rows.appendChild(detailRow);
    });
    total = page.total;
    const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
    document.getElementById('count').textContent = t('admin.count', { total: page.total, page: page.page, pages: pages });
    document.getElementById('prev').disabled = page.page <= 1;
    document.getElementById('next').disabled = page.page >= pages;
    document.getElementById('empty').hidden = page.items.length > 0;
  }

  // --- loading ------------------------------------------------------------------------------------------------

  async function load() {
    clearTimeout(refreshTimer);
    const params = new URLSearchParams({ page: String(query.page), pageSize: String(pageSize) });
    if (query.state) params.set('state', query.state);
    if (query.email) params.set('email', query.email);
    try {
      const page = await api('GET', '/api/admin/signups?' + params.toString());
      render(page);
      // While a shown signup is still moving, follow it.
      if (page.items.some(item => !item.final || undoing(item))) refreshTimer = setTimeout(load, refreshMs);
    } catch (e) {
      say(e.message);
    }
    loadAudit();
  }

  async function loadAudit() {
    const list = document.getElementById('audit');
    try {
      const entries = await api('GET', '/api/admin/audit?take=20');
      list.textContent = '';
      if (!entries.length) list.appendChild(el('li', { text: t('admin.audit.none') }));
      entries.forEach(e => list.appendChild(el('li', {
        text: when(e.at) + ' · ' + e.actor + ' · ' + e.action + ' · ' + e.signupId + (e.detail ? ' · ' + e.detail : '')
      })));
    } catch (e) {
      // The list above already says what went wrong.
    }
  }

  // --- actions ----------------------------------------------------------------------------------------------

  async function act(button, method, url, done) {
    button.disabled = true;
    try {
      await api(method, url);
      say(done);
      query.page = 1;
      await load();
    } catch (e) {
      say(e.message);
      button.disabled = false;
    }
  }

  function retry(item, button) {
    return act(button, 'POST', '/api/admin/signups/' + encodeURIComponent(item.id) + '/retry', t('admin.retried'));
  }

  function decide(item, button, decision) {
    return act(button, 'POST', '/api/admin/signups/' + encodeURIComponent(item.id) + '/' + decision,
      t(decision === 'approve' ? 'admin.approved' : 'admin.rejected'));
  }

  function erase(item, button) {
    if (!window.confirm(t('admin.confirmErase'))) return;
    return act(button, 'POST', '/api/admin/signups/' + encodeURIComponent(item.id) + '/erase', t('admin.erasedDone'));
  }

  document.getElementById('search').addEventListener('submit', event => {
    event.preventDefault();
    query.state = document.getElementById('state').value;
    query.email = document.getElementById('email').value.trim();
    query.page = 1;
    say('');
    load();
  });
  document.getElementById('prev').addEventListener('click', () => { if (query.page > 1) { query.page--; load(); } });
  document.getElementById('next').addEventListener('click', () => {
    if (query.page * pageSize < total) { query.page++; load(); }
  });

  load();
})();
