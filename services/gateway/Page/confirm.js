// The page at the end of the confirmation link. Fetching the link confirms nothing (mail scanners fetch links): the
// visitor's press on the button posts the link's token, then the page follows the signup until it is final. Every
// text comes from the page's JSON data block; anything else is written with textContent, never as HTML.
(function () {
  'use strict';
  const texts = JSON.parse(document.getElementById('texts').textContent);
  const params = new URLSearchParams(window.location.search);
  const id = params.get('id') || '';
  // The token comes in the fragment: never sent to any server, so never in an access log.
  const token = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('token') || '';
  const button = document.getElementById('confirm');
  const pollMs = 1500;
  const giveUpAfterMs = 3 * 60 * 1000;

  function t(key) { return Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : key; }

  function say(message, next) {
    document.getElementById('status').textContent = message;
    document.getElementById('next').textContent = next || '';
  }

  // The language switch keeps the link's id and token, so switching does not lose the confirmation.
  document.querySelectorAll('a[data-lang]').forEach(link => {
    const query = new URLSearchParams(window.location.search);
    query.set('lang', link.dataset.lang);
    link.href = '/confirm?' + query.toString() + window.location.hash;
  });

  function outcome(status) {
    if (status.status === 'Completed') {
      const slack = status.steps && status.steps.slack || {};
      if (slack.detail === 'AlreadyMember') return t('outcome.alreadyMember');
      if (slack.detail === 'AlreadyInvited') return t('outcome.alreadyInvited');
      if (slack.status === 'Skipped') return t('outcome.signedUp');
      return t('outcome.invited');
    }
    if (status.status === 'Failed') return t('outcome.failed');
    if (status.status === 'AwaitingApproval') return t('outcome.awaitingApproval');
    return null;
  }

  function wait(ms) { return new Promise(resolve => setTimeout(resolve, ms)); }

  async function follow(statusUrl, first) {
    const started = Date.now();
    while (Date.now() - started < giveUpAfterMs) {
      try {
        const response = await fetch(statusUrl, { headers: { Accept: 'application/json' }, cache: 'no-store' });
        if (response.ok) {
          const status = await response.json();
          const message = outcome(status);
          if (message) {
            say(first, message);
            if (status.final || status.status === 'AwaitingApproval') return;
          }
        }
      } catch (e) {
        // A network blip: the next poll will tell.
      }
      await wait(pollMs);
    }
  }

  async function confirm() {
    button.disabled = true;
    button.textContent = t('confirm.sending');
    try {
      const response = await fetch('/api/signups/' + encodeURIComponent(id) + '/confirm', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ token: token })
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok && answer.statusUrl) {
        button.hidden = true;
        const first = answer.alreadyConfirmed ? t('confirm.already') : t('confirm.done');
        say(first);
        await follow(answer.statusUrl, first);
        return;
      }
      const code = answer && answer.code;
      if (response.status === 410 || code === 'expired') say(t('confirm.expired'));
      else if (response.status === 409) say(t('confirm.notWaiting'));
      else if (response.status === 400 || response.status === 404) say(t('confirm.invalid'));
      else say(t('error.generic'));
      button.hidden = response.status < 500; // a refusal stays one; a server error may pass on a second press
    } catch (e) {
      say(t('error.network'));
    } finally {
      button.disabled = false;
      button.textContent = t('confirm.button');
    }
  }

  if (!id || !token) {
    say(t('confirm.missing'));
    return;
  }
  button.hidden = false;
  button.addEventListener('click', confirm);
})();
