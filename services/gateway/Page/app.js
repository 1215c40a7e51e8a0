// The signup page: posts to the API, then follows the signup's status until it is final.
(function () {
  'use strict';
  const form = document.getElementById('signup');
  const fields = ['name', 'email', 'consent'];
  const pollEveryMs = 500;
  const giveUpAfterMs = 120000;

  function setError(field, message) {
    const el = document.getElementById(field + '-error');
    if (el) el.textContent = message || '';
    const input = document.getElementById(field);
    if (input) input.setAttribute('aria-invalid', message ? 'true' : 'false');
  }

  function clearErrors() {
    fields.forEach(f => setError(f, ''));
    document.getElementById('form-error').textContent = '';
  }

  function finalMessage(status) {
    if (status.status === 'Completed') {
      const slack = status.steps.slack.detail;
      if (slack === 'AlreadyMember') return 'You are already a member of our Slack workspace. Welcome back!';
      if (slack === 'Skipped') return 'You are signed up. Thank you!';
      return 'You are signed up: check your inbox for the Slack invitation.';
    }
    return 'Sorry, your signup could not be completed (' + (status.reason || 'unknown reason') +
      '). Please check your email address and try again, or contact us.';
  }

  function render(status) {
    Object.keys(status.steps).forEach(step => {
      const el = document.querySelector('#steps li[data-step="' + step + '"] .state');
      if (!el) return;
      const s = status.steps[step];
      el.textContent = s.status + (s.detail ? ' (' + s.detail + ')' : '');
      el.dataset.status = s.status;
    });
    document.getElementById('status').textContent = status.final ? finalMessage(status) : 'Working on it… (' + status.status + ')';
  }

  async function follow(statusUrl) {
    const started = Date.now();
    while (Date.now() - started < giveUpAfterMs) {
      const response = await fetch(statusUrl, { headers: { Accept: 'application/json' } });
      if (response.ok) {
        const status = await response.json();
        render(status);
        if (status.final) return;
      }
      await new Promise(resolve => setTimeout(resolve, pollEveryMs));
    }
    document.getElementById('status').textContent = 'This is taking longer than usual. We will email you once it is done.';
  }

  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors();
    const button = document.getElementById('submit');
    button.disabled = true;
    try {
      const response = await fetch('/api/signups', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({
          name: form.name.value,
          email: form.email.value,
          consent: form.consent.checked
        })
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 202) {
        form.hidden = true;
        document.getElementById('progress').hidden = false;
        await follow(body.statusUrl);
        return;
      }
      if (body.errors) {
        Object.keys(body.errors).forEach(f => setError(f, body.errors[f].join(' ')));
        const first = fields.find(f => body.errors[f]);
        if (first) document.getElementById(first).focus();
      } else {
        document.getElementById('form-error').textContent = body.detail || 'Something went wrong. Please try again.';
      }
    } catch (e) {
      document.getElementById('form-error').textContent = 'Could not reach the server. Please try again.';
    } finally {
      button.disabled = false;
    }
  });
})();
