// The capture page's camera burst: 5 frames over about 2.5 s, sent with the page's nonce.
// Everything computed here is guidance for the person; the server decides from the images.
// Without a camera API the plain form (file input) still works.
(function () {
  "use strict";
  var form = document.getElementById("form");
  var live = document.getElementById("live");
  if (!form || !live || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.fetch || !window.FormData) {
    return;
  }
  var video = document.getElementById("video");
  var start = document.getElementById("start");
  var guide = document.getElementById("guide");
  var wait = document.getElementById("wait");
  var frames = parseInt(form.getAttribute("data-frames"), 10) || 5;
  var canvas = document.createElement("canvas");
  var stream = null;
  live.hidden = false;

  function brightness(ctx, w, h) {
    var d = ctx.getImageData(w / 4, h / 4, w / 2, h / 2).data, s = 0;
    for (var i = 0; i < d.length; i += 16) { s += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]; }
    return s / (d.length / 16);
  }

  function grab() {
    return new Promise(function (resolve) {
      var w = video.videoWidth || 640, h = video.videoHeight || 480;
      var scale = Math.min(1, 640 / w);
      canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
      var ctx = canvas.getContext("2d");
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var b = brightness(ctx, canvas.width, canvas.height);
      guide.textContent = b < 50 ? form.getAttribute("data-dark") : (b > 215 ? form.getAttribute("data-bright") : "");
      canvas.toBlob(function (blob) { resolve(blob); }, "image/jpeg", 0.9);
    });
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  start.addEventListener("click", function () {
    start.disabled = true;
    var got = [];
    var run = stream ? Promise.resolve(stream) : navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: { ideal: 640 } }, audio: false });
    run.then(function (s) {
      stream = s;
      video.srcObject = s;
      return video.play();
    }).then(function () { return sleep(800); }).then(function loop() {
      return grab().then(function (b) {
        got.push(b);
        if (got.length < frames) { return sleep(500).then(loop); }
      });
    }).then(function () {
      stream.getTracks().forEach(function (t) { t.stop(); });
      live.hidden = true; wait.hidden = false;
      var fd = new FormData();
      fd.append("csrf", form.elements.csrf.value);
      fd.append("nonce", form.elements.nonce.value);
      fd.append("source", "camera"); // the server accepts on the spot only what the camera took
      got.forEach(function (b, i) { fd.append("frame", b, "frame" + i + ".jpg"); });
      return fetch(form.action, { method: "POST", body: fd, credentials: "same-origin", headers: { "Accept": "application/json" } });
    }).then(function (resp) { return resp.json(); }).then(function (r) {
      wait.textContent = r.message;
      wait.setAttribute("data-outcome", r.outcome);
      wait.id = "result";
      var a = document.createElement("a");
      a.className = "button";
      // Try again, unless the day's attempts are spent (then: my status).
      var again = r.outcome === "retry" || (r.outcome === "refused" && r.reason !== "too_many");
      a.href = again ? "/c/capture" : "/c/me";
      a.textContent = again ? form.getAttribute("data-again") : form.getAttribute("data-status");
      wait.parentNode.insertBefore(a, wait.nextSibling);
      form.hidden = true;
    }).catch(function () {
      start.disabled = false;
      guide.textContent = form.getAttribute("data-nocam");
    });
  });
})();
