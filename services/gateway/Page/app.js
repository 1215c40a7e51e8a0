// The signup page: posts to the API, shows its problem details inline, then follows the signup's status until it
// is final. Every text comes from the page's JSON data block (the server's resource files, in the page's language);
// anything from the server or the visitor is written with textContent, never as HTML.
(function () {
  'use strict';
  const texts = JSON.parse(document.getElementById('texts').textContent);
  const lang = document.documentElement.lang || 'en';
  const form = document.getElementById('signup');
  const submit = document.getElementById('submit');
  const progress = document.getElementById('progress');
  const formError = document.getElementById('form-error');
  const fields = ['name', 'email', 'consent', 'codeOfConduct', 'captchaToken'].filter(f => document.getElementById(f));
  // The CAPTCHA widget (when configured) puts its token in a hidden cf-turnstile-response input inside the form.
  const captcha = document.getElementById('captchaToken');
  const stepNames = ['store', 'crm', 'slack'];
  const firstPollMs = 400;
  const maxPollMs = 3000;
  const approvalPollMs = 10000;
  const giveUpAfterMs = 5 * 60 * 1000;

  function t(key, values) {
    let text = Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : key;
    if (values) Object.keys(values).forEach(name => { text = text.split('{' + name + '}').join(String(values[name])); });
    return text;
  }

  function setError(field, message) {
    const error = document.getElementById(field + '-error');
    if (error) error.textContent = message || '';
    const input = document.getElementById(field);
    if (!input) return;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  function clearErrors() {
    fields.forEach(f => setError(f, ''));
    formError.textContent = '';
  }

  function showFieldErrors(errors) {
    const known = fields.filter(f => errors[f]);
    known.forEach(f => setError(f, [].concat(errors[f]).join(' ')));
    const others = Object.keys(errors).filter(f => fields.indexOf(f) < 0).map(f => [].concat(errors[f]).join(' '));
    const count = known.length + others.length;
    const summary = count === 1 ? t('error.summary.one') : t('error.summary.many', { n: count });
    formError.textContent = others.length ? summary + ' ' + others.join(' ') : summary;
    if (known.length) document.getElementById(known[0]).focus();
  }

  function generalError(status) {
    if (status === 429) return t('error.tooMany');
    if (status === 503) return t('error.unavailable');
    return t('error.generic');
  }

  // --- the timeline ---------------------------------------------------------------------------------------------

  function setText(id, text) {
    const el = document.getElementById(id);
    if (el.textContent !== text) el.textContent = text;   // unchanged text is not announced again
  }

  function renderSteps(status) {
    stepNames.forEach(step => {
      const item = document.querySelector('#steps li[data-step="' + step + '"]');
      const s = status.steps && status.steps[step];
      if (!item || !s) return;
      let shown = s.status;
      if (step === 'slack' && status.status === 'AwaitingApproval' && s.status === 'Pending') shown = 'AwaitingApproval';
      if (status.status === 'Failed' && s.status === 'Pending') shown = 'NotStarted';
      item.dataset.status = shown;
      item.querySelector('.state').textContent = t('status.' + shown);
    });
  }

  function isEmailProblem(reason) {
    return /invalid_email|email_invalid|bad_email|invalid_address/i.test(reason || '');
  }

  function outcome(status) {
    if (status.status === 'Completed') {
      const slack = status.steps.slack || {};
      if (slack.detail === 'AlreadyMember') return { message: t('outcome.alreadyMember') };
      if (slack.detail === 'AlreadyInvited') return { message: t('outcome.alreadyInvited') };
      if (slack.status === 'Skipped') return { message: t('outcome.signedUp') };
      return { message: t('outcome.invited') };
    }
    if (status.status === 'Failed') {
      const reason = status.reason || '';
      let next = t('outcome.failed.generic');
      const final = reason === 'store:email_already_registered' || reason === 'admin:rejected';
      if (reason === 'store:email_already_registered') next = t('outcome.failed.emailTaken');
      else if (reason === 'admin:rejected') next = t('outcome.failed.rejected');
      else if (reason === 'timeout:confirmation') next = t('outcome.failed.confirmationExpired');
      else if (isEmailProblem(reason)) next = t('outcome.failed.email');
      return { message: t('outcome.failed'), next: next, reference: reason || status.id, retry: !final };
    }
    if (status.status === 'AwaitingApproval') return { message: t('outcome.awaitingApproval'), waiting: true };
    // Double opt-in: nothing happens until the mailed link is followed (perhaps in another tab: keep following, slowly).
    if (status.status === 'AwaitingConfirmation') return { message: t('outcome.awaitingConfirmation'), waiting: true };
    return null;
  }

  function render(status) {
    renderSteps(status);
    const result = outcome(status);
    const reference = document.getElementById('reference');
    if (!result) {
      const done = stepNames.filter(s => status.steps && status.steps[s] && /^(Done|Skipped)$/.test(status.steps[s].status)).length;
      setText('status', t('progress.working', { done: done, total: stepNames.length }));
      setText('next', '');
      reference.hidden = true;
      return;
    }
    setText('status', result.message);
    setText('next', result.next || '');
    if (result.reference) {
      setText('reference-code', result.reference);
      reference.hidden = false;
    } else {
      reference.hidden = true;
    }
    document.getElementById('again').hidden = !result.retry;
  }

  function wait(ms) { return new Promise(resolve => setTimeout(resolve, ms)); }

  async function follow(statusUrl) {
    const started = Date.now();
    let delay = firstPollMs;
    while (Date.now() - started < giveUpAfterMs) {
      let status = null;
      try {
        const response = await fetch(statusUrl, { headers: { Accept: 'application/json' }, cache: 'no-store' });
        if (response.status === 404) { setText('status', t('progress.lost')); return; }
        if (response.ok) status = await response.json();
      } catch (e) {
        // A network blip: keep following, the next poll will tell.
      }
      if (status) {
        render(status);
        if (status.final) return;
        if (status.status === 'AwaitingApproval' || status.status === 'AwaitingConfirmation') { await wait(approvalPollMs); continue; }
      }
      await wait(delay);
      delay = Math.min(maxPollMs, Math.round(delay * 1.5));
    }
    setText('status', t('progress.slow'));
  }

  function showProgress() {
    form.hidden = true;
    progress.hidden = false;
    document.getElementById('again').hidden = true;
    document.getElementById('reference').hidden = true;
    setText('next', '');
    renderSteps({ status: 'Accepted', steps: { store: { status: 'Pending' }, crm: { status: 'Pending' }, slack: { status: 'Pending' } } });
    setText('status', t('progress.working', { done: 0, total: stepNames.length }));
    document.getElementById('progress-title').focus();
  }

  // --- the form -------------------------------------------------------------------------------------------------

  form.addEventListener('input', event => {
    // An error goes away as soon as the field is changed; the server checks again on submit.
    if (event.target && fields.indexOf(event.target.id) >= 0) setError(event.target.id, '');
  });

  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors();
    submit.disabled = true;
    submit.textContent = t('form.sending');
    const body = {
      name: form.elements.name.value,
      email: form.elements.email.value,
      consent: form.elements.consent.checked,
      website: form.elements.website.value
    };
    if (form.elements.codeOfConduct) body.codeOfConduct = form.elements.codeOfConduct.checked;
    if (captcha) body.captchaToken = form.elements['cf-turnstile-response'] ? form.elements['cf-turnstile-response'].value : '';
    try {
      const response = await fetch('/api/signups', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Accept-Language': lang },
        body: JSON.stringify(body)
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 202 && answer.statusUrl) {
        showProgress();
        await follow(answer.statusUrl);
        return;
      }
      if (answer && answer.errors) showFieldErrors(answer.errors);
      else formError.textContent = generalError(response.status);
      // A token is good once: whatever the answer, the next attempt needs a fresh one.
      if (captcha && window.turnstile) window.turnstile.reset(captcha);
    } catch (e) {
      formError.textContent = t('error.network');
    } finally {
      submit.disabled = false;
      submit.textContent = t('form.submit');
    }
  });

  document.getElementById('again').addEventListener('click', () => {
    progress.hidden = true;
    form.hidden = false;
    document.getElementById('name').focus();
  });
})();
