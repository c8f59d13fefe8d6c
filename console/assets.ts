// The console's only script and stylesheet, served as same-origin files so the
// Content-Security-Policy can forbid inline script and style outright.

/**
 * Live escalation queue: polls the rows every 1.5 s and swaps them in only when the set of
 * escalations changed, so a note being typed is not wiped by an unchanged refresh.
 */
export const CONSOLE_JS = `'use strict';
(function () {
  var table = document.getElementById('escalations');
  if (!table) return;
  var status = document.getElementById('live-status');
  var source = table.getAttribute('data-source');
  function tick() {
    fetch(source, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (res) {
        if (!res.ok) throw new Error(String(res.status));
        var ids = res.headers.get('x-escalation-ids') || '';
        return res.text().then(function (html) { return { ids: ids, html: html }; });
      })
      .then(function (r) {
        if (r.ids !== table.getAttribute('data-ids')) {
          var body = table.tBodies[0];
          var active = document.activeElement && body.contains(document.activeElement);
          if (!active) {
            body.innerHTML = r.html;
            table.setAttribute('data-ids', r.ids);
            if (status) status.textContent = 'Queue updated ' + new Date().toLocaleTimeString();
          }
        }
      })
      .catch(function () { if (status) status.textContent = 'Live updates paused: reload the page.'; })
      .then(function () { setTimeout(tick, 1500); });
  }
  setTimeout(tick, 1500);
})();
`;

export const CONSOLE_CSS = `
:root { color-scheme: light; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1a1a1a; background: #fff; }
body { margin: 0; line-height: 1.45; }
header { background: #0b3d6e; color: #fff; padding: .5rem 1rem; }
header a, header span { color: #fff; }
.brand { font-weight: 700; margin: 0 0 .25rem; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 1rem; margin: 0; padding: 0; }
.signout { margin-top: .5rem; }
main { padding: 1rem; max-width: 70rem; }
a { color: #0b4f9c; }
a:focus, button:focus, input:focus, select:focus { outline: 3px solid #ffbf47; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: .5rem; background: #fff; color: #0b3d6e; padding: .25rem .5rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid #888; padding: .25rem .5rem; text-align: left; vertical-align: top; }
form { display: inline-block; margin: .15rem .5rem .15rem 0; }
button { font: inherit; padding: .2rem .6rem; border: 1px solid #0b3d6e; background: #0b3d6e; color: #fff; border-radius: 3px; cursor: pointer; }
input, select { font: inherit; padding: .15rem .3rem; border: 1px solid #555; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
.privacy { background: #f3f6fa; border-left: 4px solid #0b3d6e; padding: .5rem; }
.notice { background: #fff4e5; border-left: 4px solid #a35200; padding: .5rem; }
figure { display: inline-block; margin: 0 1rem 1rem 0; }
`;
