// Staff pages' behaviour, kept out of the HTML so the Content-Security-Policy allows no inline
// script. A form with data-confirm asks before it is sent.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A job's page (templates/jobs/detail.html) refreshes itself every 3 s without JavaScript; with
// it, the progress is asked for every second and the page reloads once the job has finished.
(function () {
  var box = document.querySelector("[data-job-url]");
  if (!box || !window.fetch) { return; }
  var state = box.getAttribute("data-job-state");
  if (state === "done" || state === "failed") { return; }
  var url = box.getAttribute("data-job-url");
  function field(name) { return box.querySelector('[data-job-field="' + name + '"]'); }
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        if (job.state !== state) { window.location.reload(); return; }
        var bar = field("bar");
        if (bar && job.total) { bar.max = job.total; bar.value = job.done; }
        var count = field("count");
        if (count && job.total) { count.textContent = job.done + " / " + job.total; }
        var elapsed = field("elapsed");
        if (elapsed && job.elapsed !== null) { elapsed.textContent = Math.round(job.elapsed) + " s"; }
        var remaining = field("remaining");
        if (remaining && job.remaining !== null) { remaining.textContent = "≈ " + Math.round(job.remaining) + " s"; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
