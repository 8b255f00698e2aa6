// The transaction list follows new events: a status change anywhere in the tenant's
// transactions reloads the list (at most once a second). Progressive: without this
// script the page is the same, only not live.
(function () {
  if (!window.EventSource || !document.getElementById("transactions")) return;
  var source = new EventSource("/console/events" + window.location.search);
  var pending = null;
  source.onopen = function () { document.body.dataset.live = "open"; };
  source.onmessage = function () {
    if (pending) return;
    pending = setTimeout(function () { window.location.reload(); }, 300);
  };
})();
