// Live updates of the jobgen dashboard: the element with data-live names
// the page's event stream (relative to the page's base URL). "queues"
// events replace the queues table, "progress" events move a running job's
// bar, and a "state" event reloads the page. Without this script the
// pages refresh themselves every few seconds.
(function () {
	"use strict";

	document.querySelectorAll("form[data-confirm]").forEach(function (form) {
		form.addEventListener("submit", function (e) {
			if (!window.confirm(form.getAttribute("data-confirm"))) {
				e.preventDefault();
			}
		});
	});

	var live = document.getElementById("live");
	if (!live || !window.EventSource) {
		return;
	}
	var url = new URL(live.getAttribute("data-live"), document.baseURI);
	var source = new EventSource(url);
	var status = function (state, text) {
		live.setAttribute("data-state", state);
		live.textContent = text;
	};
	source.addEventListener("hello", function () {
		status("on", "live");
	});
	source.addEventListener("error", function () {
		status("off", "reconnecting…");
	});
	source.addEventListener("queues", function (e) {
		var table = document.getElementById("queues");
		if (table) {
			// The server rendered this HTML with its templates' escaping.
			table.innerHTML = e.data;
		}
	});
	source.addEventListener("progress", function (e) {
		var p = JSON.parse(e.data);
		var bar = document.getElementById("progress");
		var text = document.getElementById("progress-text");
		if (bar) {
			bar.value = p.percent;
		}
		if (text) {
			text.textContent = Math.round(p.percent) + "%" + (p.message ? " · " + p.message : "");
		}
	});
	source.addEventListener("state", function () {
		source.close();
		status("off", "updating…");
		window.location.reload();
	});
})();
