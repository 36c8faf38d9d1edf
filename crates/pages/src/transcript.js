(function () {
  'use strict';
  var urls = {};
  function resolveMedia(id) {
    if (Object.prototype.hasOwnProperty.call(urls, id)) { return urls[id]; }
    var def = document.getElementById('media-' + id), url = null;
    if (def && def.classList.contains('media')) {
      var value = def.getAttribute('value') || '', comma = value.indexOf(',');
      var type = /^data:([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+);base64$/.exec(value.slice(0, comma));
      if (comma > 0 && type) {
        try {
          var bin = atob(value.slice(comma + 1)), bytes = new Uint8Array(bin.length);
          for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
          url = URL.createObjectURL(new Blob([bytes], { type: type[1] }));
          def.removeAttribute('value');
        } catch (e) { url = value; }
      }
    }
    urls[id] = url;
    return url;
  }
  function load(el) {
    var url = resolveMedia(el.getAttribute('data-media'));
    if (url) { el.setAttribute('src', url); } else { el.classList.add('missing'); }
  }
  function ready() {
    var media = [].slice.call(document.querySelectorAll('[data-media]'));
    // What the first screen shows gets its bytes at once; the rest as it comes near.
    var reach = window.innerHeight + 1200;
    media = media.filter(function (el) {
      if (el.getBoundingClientRect().top < reach) { load(el); return false; }
      return true;
    });
    if ('IntersectionObserver' in window) {
      var io = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) { io.unobserve(entry.target); load(entry.target); }
        });
      }, { rootMargin: '1200px 0px' });
      media.forEach(function (el) { io.observe(el); });
    } else { media.forEach(load); }
    [].forEach.call(document.querySelectorAll('[data-colour]'), function (el) {
      var c = el.getAttribute('data-colour');
      if (/^#[0-9a-f]{6}$/.test(c)) { el.style.setProperty('--c', c); }
    });
    document.addEventListener('click', function (event) {
      var hidden = event.target.closest && event.target.closest('.spoiler:not(.shown),.spoiler-media:not(.shown)');
      if (hidden) { hidden.classList.add('shown'); event.preventDefault(); }
    });
    [].forEach.call(document.querySelectorAll('time[datetime]'), function (el) {
      var d = new Date(el.getAttribute('datetime'));
      if (isNaN(d.getTime())) { return; }
      try {
        el.title = el.textContent;
        el.textContent = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
      } catch (e) { /* keep the UTC text */ }
    });
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', ready); } else { ready(); }
})();
