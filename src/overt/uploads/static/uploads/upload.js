// The upload form: tus-js-client sends the file to /files/ in resumable pieces, signed in
// by the page's session; the CSRF token goes along as a header.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.tus) { return; }
  var statusEl = document.getElementById("upload-status");
  var progressEl = document.getElementById("upload-progress");
  var percentEl = document.getElementById("upload-percent");
  var pauseButton = document.getElementById("upload-pause");
  var current = null;

  function say(text) { statusEl.textContent = text; }

  // The upload's result links to the recording it became (the Overt-Recording header).
  function showRecording(id) {
    if (!/^[0-9]+$/.test(id)) { return; }
    var link = document.getElementById("upload-recording");
    link.href = "/recordings/" + id + "/";
    link.textContent = "Open the new recording (" + id + ")";
    document.getElementById("upload-result").hidden = false;
    form.dataset.recording = id;
  }

  function problemText(error) {
    var response = error && error.originalResponse;
    if (!response) { return error ? String(error.message || error) : "unknown error"; }
    try {
      var body = JSON.parse(response.getBody() || "{}");
      return (response.getStatus() + " " + (body.title || "") + ": " + (body.detail || "")).trim();
    } catch (e) {
      return "HTTP " + response.getStatus();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = form.elements.file.files[0];
    if (!file) { say("Choose a file first."); return; }
    if (file.size > Number(form.dataset.maxBytes)) { say("The file is larger than this server accepts."); return; }
    var metadata = {
      filename: file.name,
      officer: form.elements.officer.value,
      device: form.elements.device.value
    };
    var sha256 = form.elements.sha256.value.trim().toLowerCase();
    if (sha256) { metadata.sha256 = sha256; }
    progressEl.hidden = false;
    say("Uploading " + file.name + "…");
    current = new window.tus.Upload(file, {
      endpoint: form.dataset.endpoint,
      metadata: metadata,
      headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
      chunkSize: 64 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress: function (sent, total) {
        var pct = total ? Math.floor((sent / total) * 100) : 0;
        progressEl.value = pct;
        percentEl.textContent = pct + "%";
      },
      onSuccess: function (payload) {
        pauseButton.hidden = true;
        say("Stored: " + file.name + " is evidence now.");
        form.dataset.done = current.url;
        var last = payload && payload.lastResponse;
        var recording = last ? last.getHeader("Overt-Recording") : null;
        if (recording) { showRecording(recording); return; }
        // Resumed to the end with nothing left to send: ask the upload itself.
        fetch(current.url, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" }, credentials: "same-origin" })
          .then(function (r) { var id = r.headers.get("Overt-Recording"); if (id) { showRecording(id); } });
      },
      onError: function (error) {
        pauseButton.hidden = true;
        say("Upload failed: " + problemText(error));
        form.dataset.failed = problemText(error);
      }
    });
    current.findPreviousUploads().then(function (previous) {
      if (previous.length) { current.resumeFromPreviousUpload(previous[0]); }
      pauseButton.hidden = false;
      current.start();
    });
  });

  pauseButton.addEventListener("click", function () {
    if (!current) { return; }
    if (pauseButton.textContent === "Pause") {
      current.abort();
      pauseButton.textContent = "Resume";
      say("Paused.");
    } else {
      current.start();
      pauseButton.textContent = "Pause";
      say("Uploading…");
    }
  });
})();
