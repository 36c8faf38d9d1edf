(function () {
  'use strict';
  var root = document.documentElement, KEY = 'garrison-theme';
  function load() { try { return localStorage.getItem(KEY); } catch (e) { return null; } }
  function save(v) { try { localStorage.setItem(KEY, v); } catch (e) { /* storage unavailable */ } }
  var saved = load();
  if (saved === 'dark' || saved === 'light') { root.setAttribute('data-theme', saved); }
  function dark() {
    var t = root.getAttribute('data-theme');
    if (t) { return t === 'dark'; }
    return !!(window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches);
  }
  function ready() {
    var toggle = document.getElementById('theme-toggle');
    function label() {
      toggle.textContent = dark() ? 'Light mode' : 'Dark mode';
      toggle.setAttribute('aria-pressed', dark() ? 'true' : 'false');
    }
    toggle.addEventListener('click', function () {
      var next = dark() ? 'light' : 'dark';
      root.setAttribute('data-theme', next);
      save(next);
      label();
    });
    var mq = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)');
    if (mq && mq.addEventListener) { mq.addEventListener('change', label); }
    label();
    [].forEach.call(document.querySelectorAll('time[datetime]'), function (el) {
      var d = new Date(el.getAttribute('datetime'));
      if (isNaN(d.getTime())) { return; }
      try {
        el.title = el.textContent;
        el.textContent = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
      } catch (e) { /* keep the UTC text */ }
    });
    var search = document.getElementById('search');
    if (!search) { return; }
    var buttons = [].slice.call(document.querySelectorAll('button[data-filter]'));
    var cards = [].slice.call(document.querySelectorAll('li.entry'));
    var shown = document.getElementById('shown'), none = document.getElementById('no-match');
    var action = 'all';
    function known(a) {
      a = (a || '').toLowerCase();
      for (var i = 0; i < buttons.length; i++) {
        var f = buttons[i].getAttribute('data-filter');
        if (f.toLowerCase() === a) { return f; }
      }
      return 'all';
    }
    function apply() {
      var q = search.value.trim().toLowerCase(), n = 0;
      cards.forEach(function (c) {
        var ok = (action === 'all' || c.getAttribute('data-action') === action) &&
          (!q || c.getAttribute('data-search').indexOf(q) !== -1);
        c.hidden = !ok;
        if (ok) { n++; }
      });
      buttons.forEach(function (b) {
        b.setAttribute('aria-pressed', b.getAttribute('data-filter') === action ? 'true' : 'false');
      });
      shown.textContent = 'Showing ' + n + ' of ' + cards.length;
      none.hidden = n !== 0;
    }
    function write() {
      var p = new URLSearchParams();
      if (search.value) { p.set('search', search.value); }
      if (action !== 'all') { p.set('action', action); }
      var s = p.toString();
      if ('#' + s === location.hash || (!s && !location.hash)) { return; }
      try { history.replaceState(null, '', s ? '#' + s : location.pathname + location.search); } catch (e) { /* opaque origin */ }
    }
    function read() {
      var p = new URLSearchParams(location.hash.replace(/^#/, ''));
      search.value = p.get('search') || '';
      action = known(p.get('action'));
      apply();
    }
    search.addEventListener('input', function () { apply(); write(); });
    buttons.forEach(function (b) {
      b.addEventListener('click', function () { action = b.getAttribute('data-filter'); apply(); write(); });
    });
    window.addEventListener('hashchange', read);
    read();
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', ready); } else { ready(); }
})();
