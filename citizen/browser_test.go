package citizen

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/browsertest"
	"github.com/silentcert/silentcert/store/storetest"
)

func TestBrowserFace(t *testing.T) {
	exe := browsertest.Chromium(t)
	m := testModels(t)
	ctx := context.Background()
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "b.db")), m)
	base := c.srv.URL
	_, photo := demo(t, "sample2.jpg")
	if err := importPhoto(ctx, c.db, zhang, photo, c.clock.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	if s, _, _ := c.person(t, zhang); s == sc.StatusCertified {
		t.Fatalf("张三 is already certified on %s; the test needs someone who is not", today)
	}
	link, err := NewLink(ctx, c.db, c.pid(t, zhang), c.clock.Now(), c.clock.Now().Add(72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	frames := blinkBurst(t, m)

	b, cancel := context.WithTimeout(browsertest.New(t, exe, 390, 844, browsertest.Camera(blinkCamera(t, m, 0))...), 3*time.Minute)
	t.Cleanup(cancel)
	type css = chromedp.CSS
	// The SMS link: the ID number's last four, as the person themself.
	if err := chromedp.Do(b, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Navigate(base+link),
		chromedp.WaitVisible(css(`#last4`)),
		chromedp.SendKeys(css(`#last4`), zhang[14:]),
		chromedp.Click(css(`form[action^="/c/"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#code`))); err != nil {
		t.Fatalf("link page: %v", err)
	}
	code, phone := c.code(t)
	if phone != zhangPhone || len(code) != 6 {
		t.Fatalf("code %q sent to %s, want 张三's own phone", code, phone)
	}
	if err := chromedp.Do(b,
		chromedp.SendKeys(css(`#code`), code),
		chromedp.Click(css(`form[action="/c/code"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#certify`)),
		chromedp.Click(css(`#certify`)),
		chromedp.WaitVisible(css(`#start`))); err != nil {
		t.Fatalf("code and capture page: %v", err)
	}
	nonce, err := chromedp.Run(b, chromedp.Value(css(`#form input[name=nonce]`)))
	if err != nil || nonce == "" {
		t.Fatalf("nonce %q: %v", nonce, err)
	}
	csrf, err := chromedp.Run(b, chromedp.Value(css(`#form input[name=csrf]`)))
	if err != nil || csrf == "" {
		t.Fatalf("csrf %q: %v", csrf, err)
	}
	browsertest.Screenshot(t, b, "capture")

	// The camera's burst (a fake camera playing the blinking frames): the script sends it
	// and shows the server's answer. (Photos through the file input would wait for staff.)
	if err := chromedp.Do(b, chromedp.Click(css(`#start`)), chromedp.WaitVisible(css(`#result`))); err != nil {
		t.Fatalf("the camera's burst: %v", err)
	}
	outcome, err := chromedp.Run(b, chromedp.AttributeValue(css(`#result`), "data-outcome"))
	if err != nil || outcome.Value != "accept" {
		t.Fatalf("outcome %q (%v): %s", outcome.Value, err, browsertest.Text(t, b, `main`))
	}
	s, method, until := c.person(t, zhang)
	if s != sc.StatusCertified || method != sc.MethodFace || until == 0 {
		t.Fatalf("after the attempt 张三 is %s by %s until %s", s, method, until)
	}
	want := msg(langZH, "r_accept") + " " + fmt.Sprintf(msg(langZH, "until_is"), until)
	if got := browsertest.Text(t, b, `#result`); got != want {
		t.Fatalf("result page says %q, want %q", got, want)
	}
	browsertest.Screenshot(t, b, "result")
	faces := faceRecords(t, c.db)
	if len(faces) != 1 {
		t.Fatalf("%d HRSS.FACE records, want 1", len(faces))
	}
	detail := faces[0].Detail
	if strings.Contains(detail, "agent=1") {
		t.Fatalf("the person's own attempt was recorded as an agent's: %q", detail)
	}

	// Replay: the same nonce and CSRF token posted again from the page, with frames.
	b64 := make([]string, len(frames))
	for i, f := range frames {
		b64[i] = base64.StdEncoding.EncodeToString(f)
	}
	args, _ := json.Marshal(map[string]any{"csrf": csrf, "nonce": nonce, "frames": b64})
	type answer struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	replay, err := chromedp.Run(b, chromedp.Evaluate[answer](`(async (a) => {
		const fd = new FormData();
		fd.append("csrf", a.csrf);
		fd.append("nonce", a.nonce);
		a.frames.forEach((f, i) => {
			const bin = atob(f), u = new Uint8Array(bin.length);
			for (let j = 0; j < bin.length; j++) u[j] = bin.charCodeAt(j);
			fd.append("frame", new Blob([u], {type: "image/jpeg"}), "frame" + i + ".jpg");
		});
		const r = await fetch("/c/attempt", {method: "POST", body: fd, credentials: "same-origin"});
		return {status: r.status, body: await r.text()};
	})(`+string(args)+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if replay.Status != 409 || !strings.Contains(replay.Body, `data-outcome="refused"`) || !strings.Contains(replay.Body, msg(langZH, "r_refused")) {
		t.Fatalf("replayed nonce: %d\n%s", replay.Status, replay.Body)
	}
	// Show the refusal as the browser would have and keep it.
	if err := chromedp.Do(b, chromedp.Evaluate[chromedp.Void](`document.open(); document.write(`+jsString(replay.Body)+`); document.close();`),
		chromedp.WaitVisible(css(`#result[data-outcome="refused"]`))); err != nil {
		t.Fatalf("showing the refusal: %v", err)
	}
	browsertest.Screenshot(t, b, "replay")
	if n := len(faceRecords(t, c.db)); n != 1 {
		t.Fatalf("%d HRSS.FACE records after the replay, want 1", n)
	}
	if s2, m2, u2 := c.person(t, zhang); s2 != s || m2 != method || u2 != until {
		t.Fatalf("the replay changed 张三 to %s by %s until %s", s2, m2, u2)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
