// The console's only script: pages that ask for it (data-refresh="<seconds>") reload themselves,
// unless someone is typing in a form or has changed a field. Everything else works without it.
(function () {
  var seconds = Number(document.body && document.body.getAttribute('data-refresh'));
  if (!seconds) return;
  var edited = false;
  document.addEventListener('input', function () { edited = true; });
  setInterval(function () {
    var active = document.activeElement;
    var typing = active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
    if (!edited && !typing && document.visibilityState === 'visible') location.reload();
  }, seconds * 1000);
})();
