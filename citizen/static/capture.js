// The capture page's script: the camera's burst (its picture shown first, then 3, 2, 1
// counted with what to do, then 5 frames over about 2.5 s), or a photo from the file
// input scaled down before it is sent; either is sent once, with the page's nonce,
// and the answer is shown on the page, with what to do next. Everything computed here is
// guidance for the person; the server decides from the images. Without a camera API the
// file input still works, and without the script the plain form does.
(function () {
  "use strict";
  var form = document.getElementById("form");
  var wait = document.getElementById("wait");
  if (!form || !wait || !window.fetch || !window.FormData || !window.Promise) {
    return;
  }
  var live = document.getElementById("live");
  var file = document.getElementById("file");
  var canvas = document.createElement("canvas");
  function say(key) { return form.getAttribute("data-" + key) || ""; }

  // show puts an answer where the person is looking, with a button for each next step
  // ([address, words]; the first is the main one).
  // Buttons an earlier answer put there go (two answers once showed both sets).
  function show(text, outcome, steps) {
    if (live) { live.hidden = true; }
    form.hidden = true;
    wait.hidden = false;
    wait.textContent = text;
    wait.setAttribute("data-outcome", outcome);
    wait.id = "result";
    var old = document.querySelectorAll("a[data-step]");
    for (var j = 0; j < old.length; j++) { old[j].parentNode.removeChild(old[j]); }
    var at = wait;
    steps.forEach(function (s, i) {
      var a = document.createElement("a");
      a.className = i === 0 ? "button" : "button secondary";
      a.href = s[0];
      a.textContent = s[1];
      a.setAttribute("data-step", String(i));
      at.parentNode.insertBefore(a, at.nextSibling);
      at = a;
    });
  }

  var again = ["/c/capture", say("again")], status = ["/c/me", say("status")];

  // send posts a burst and shows the server's answer. An answer without words (the
  // sign-in ended: 401; a server error: 500), a page instead of an answer (a proxy's 502
  // or 504) or no answer at all (the connection dropped) is said in words too: the
  // attempt may or may not have been judged, so the person is told where to look first.
  function send(fd) {
    if (live) { live.hidden = true; }
    form.hidden = true;
    wait.hidden = false;
    return fetch(form.action, { method: "POST", body: fd, credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (resp) {
      if (resp.status === 401) {
        show(say("expired"), "expired", [["/c/login", say("login")]]);
        return;
      }
      return resp.json().then(function (r) {
        if (!r || typeof r.message !== "string" || r.message === "") {
          throw new Error("no answer");
        }
        // Try again, unless staff have it, the village will visit, or the day's attempts
        // are spent (then: my status).
        var retry = r.outcome === "retry" || (r.outcome === "reject" && r.reason !== "visit") ||
          (r.outcome === "refused" && r.reason !== "too_many");
        show(r.message, r.outcome, retry ? [again, status] : [status]);
      });
    }).catch(function () {
      show(say("lost"), "lost", [status, again]);
    });
  }

  function nonced(source) {
    var fd = new FormData();
    fd.append("csrf", form.elements.csrf.value);
    fd.append("nonce", form.elements.nonce.value);
    fd.append("source", source); // the server accepts on the spot only what the camera took
    return fd;
  }

  // A photo from the file input is sent once: a second tap while the first is on its way
  // (a slow line) sends nothing more, and the button says so by its look. A phone
  // camera's 12 MP photo is several MB, slow to send and possibly over the server's
  // limit, so it is drawn at most 1280 px a side and sent as a JPEG. Only where the
  // browser turns a photo upright by its EXIF orientation when drawing it (the CSS
  // property image-orientation says so); elsewhere, and if the photo cannot be drawn,
  // the plain form sends it as it is and the server turns it.
  var sending = false, submit = form.querySelector("button[type=submit]");
  var scale = file && window.URL && URL.createObjectURL && window.CSS && CSS.supports && CSS.supports("image-orientation", "from-image");
  form.addEventListener("submit", function (ev) {
    var f = file && file.files && file.files[0];
    if (sending) {
      ev.preventDefault();
      return;
    }
    if (!f) {
      return;
    }
    sending = true;
    if (submit) { submit.disabled = true; }
    if (!scale) {
      return;
    }
    ev.preventDefault();
    new Promise(function (resolve, reject) {
      var img = new Image(), url = URL.createObjectURL(f);
      img.onload = function () {
        var w = img.naturalWidth, h = img.naturalHeight, s = Math.min(1, 1280 / Math.max(w, h));
        canvas.width = Math.max(1, Math.round(w * s));
        canvas.height = Math.max(1, Math.round(h * s));
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (b) { if (b) { resolve(b); } else { reject(new Error("no JPEG")); } }, "image/jpeg", 0.9);
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not a picture")); };
      img.src = url;
    }).then(function (blob) {
      var fd = nonced("file");
      fd.append("frame", blob, "photo.jpg");
      send(fd);
    }, function () {
      form.submit();
    });
  });

  if (!live || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var video = document.getElementById("video");
  var start = document.getElementById("start");
  var guide = document.getElementById("guide");
  var count = document.getElementById("count");
  var frames = parseInt(form.getAttribute("data-frames"), 10) || 5;
  var stream = null;
  live.hidden = false;

  // brightness is the mean brightness (0..255) of the middle of the picture, where the
  // face is. Below dim in every frame the burst is plainly too dark (the server's own
  // limit, 45 on the face, would refuse it): it is not sent, and the person is told.
  var dim = 40;
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
      guide.textContent = b < 50 ? say("dark") : (b > 215 ? say("bright") : say("shooting"));
      canvas.toBlob(function (blob) { resolve({ blob: blob, light: b }); }, "image/jpeg", 0.9);
    });
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // preview shows the camera's picture (the person sees themself before anything is taken);
  // it stays open for another try on this page.
  function preview() {
    if (stream) {
      return Promise.resolve();
    }
    return navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: { ideal: 640 } }, audio: false }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      return video.play();
    }).then(function () {
      if (live.scrollIntoView) { live.scrollIntoView(); }
    });
  }

  // countdown says what to do and counts 3, 2, 1 before the burst.
  function countdown() {
    guide.textContent = say("look");
    var n = 3;
    return (function tick() {
      count.textContent = n > 0 ? String(n) : "";
      if (n-- > 0) { return sleep(1000).then(tick); }
    })();
  }

  start.addEventListener("click", function () {
    if (sending) {
      return;
    }
    start.disabled = true;
    var got = [];
    preview().then(countdown).then(function loop() {
      return grab().then(function (g) {
        got.push(g);
        if (got.length < frames) { return sleep(500).then(loop); }
      });
    }).then(function () {
      if (got.every(function (g) { return g.light < dim; })) {
        guide.textContent = say("darkagain");
        start.disabled = false;
        return;
      }
      sending = true;
      stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      var fd = nonced("camera");
      got.forEach(function (g, i) { fd.append("frame", g.blob, "frame" + i + ".jpg"); });
      return send(fd);
    }, function () {
      // No camera (refused, missing, or it failed): the file input below.
      start.disabled = false;
      count.textContent = "";
      video.hidden = true;
      guide.textContent = say("nocam");
    });
  });
})();
