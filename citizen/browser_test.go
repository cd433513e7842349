package citizen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
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
	want := msg(langZH, "r_accept") + " " + fmt.Sprintf(msg(langZH, "until_is"), plainDay(langZH, until.String()))
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
	// Answered as the first was (the same page's upload sent twice), judged no more.
	if replay.Status != 200 || !strings.Contains(replay.Body, `data-outcome="accept"`) || !strings.Contains(replay.Body, msg(langZH, "r_accept")) {
		t.Fatalf("replayed nonce: %d\n%s", replay.Status, replay.Body)
	}
	// Show the answer as the browser would have and keep it.
	if err := chromedp.Do(b, chromedp.Evaluate[chromedp.Void](`document.open(); document.write(`+jsString(replay.Body)+`); document.close();`),
		chromedp.WaitVisible(css(`#result[data-outcome="accept"]`))); err != nil {
		t.Fatalf("showing the answer: %v", err)
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

// signIn opens a fresh reminder link for 张三 on the site at base in browser b and signs
// in with the SMS code, up to his status page.
func (c *city) signIn(t *testing.T, b context.Context, base string) {
	t.Helper()
	type css = chromedp.CSS
	// Signed out first: a reminder's link opened while signed in leads to /c/me (the
	// cookies of 127.0.0.1 are shared by the test's servers, whatever their ports).
	if _, err := chromedp.Call(b, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b, chromedp.Navigate(base+c.link(t, zhang, 72*time.Hour)),
		chromedp.WaitVisible(css(`#last4`)),
		chromedp.SendKeys(css(`#last4`), zhang[14:]),
		chromedp.Click(css(`form[action^="/c/"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#code`))); err != nil {
		t.Fatalf("link page: %v", err)
	}
	code, _ := c.code(t)
	if err := chromedp.Do(b, chromedp.SendKeys(css(`#code`), code),
		chromedp.Click(css(`form[action="/c/code"] button[type=submit]`)),
		chromedp.WaitReady(css(`#status`))); err != nil {
		t.Fatalf("code page: %v", err)
	}
	if err := chromedp.Do(b, chromedp.WaitVisible(css(`#certify`))); err != nil {
		t.Fatalf("status page: %v", err)
	}
}

// links are the addresses of the buttons after the capture page's answer.
func links(t *testing.T, b context.Context) string {
	t.Helper()
	s, err := chromedp.Run(b, chromedp.Evaluate[string](`[...document.querySelectorAll("a[data-step]")].map(a => a.getAttribute("href")).join(" ")`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// portraitPhoto is what a phone's camera app saves of a selfie held upright: 3000×4000
// stored sideways (4000×3000, EXIF Orientation 6), with sensor noise that makes the file
// larger than the server takes (MaxFrameBytes) unless the page scales it down.
func portraitPhoto(t *testing.T) []byte {
	src := selfie(t)
	sb := src.Bounds()
	up := image.NewRGBA(image.Rect(0, 0, 3000, 4000))
	r := rand.New(rand.NewSource(1))
	for y := range 4000 {
		for x := range 3000 {
			c := color.RGBA{120, 120, 120, 255}
			if sy := y * sb.Dx() / 3000; sy < sb.Dy() {
				cr, cg, cb, _ := src.At(sb.Min.X+x*sb.Dx()/3000, sb.Min.Y+sy).RGBA()
				c = color.RGBA{uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8), 255}
			}
			n := func(v uint8) uint8 { return uint8(min(255, max(0, int(v)+r.Intn(49)-24))) }
			up.SetRGBA(x, y, color.RGBA{n(c.R), n(c.G), n(c.B), 255})
		}
	}
	b := withOrientation(encodeJPEG(t, stored(up, 6), 97), 6)
	if int64(len(b)) <= DefaultPolicy().MaxFrameBytes {
		t.Fatalf("the photo is %d bytes: the test needs one over MaxFrameBytes", len(b))
	}
	return b
}

// TestBrowserCaptureTroubles drives the capture page where things go wrong, on a phone
// with a camera: the sign-in ends while the page is open (once an empty message and a
// button to the login with no word why); a burst is refused (once no button to try
// again, though the words said to); the connection drops once the server has judged
// the burst (once "正在核对，请稍候……" for ever); and a 12 MP portrait from the camera app,
// stored sideways and over the server's size limit, is sent through the file input
// (once refused as too large, or seen without a face): the page draws it upright at
// 1280 px and sends that, and staff get it.
func TestBrowserCaptureTroubles(t *testing.T) {
	exe := browsertest.Chromium(t)
	m := testModels(t)
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "b.db")), m)
	_, idPhoto := demo(t, "sample2.jpg")
	if err := importPhoto(context.Background(), c.db, zhang, idPhoto, c.clock.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	// The same site behind a connection that drops once an attempt has been answered.
	drop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/c/attempt" {
			c.h.ServeHTTP(httptest.NewRecorder(), r)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
			return
		}
		c.h.ServeHTTP(w, r)
	}))
	t.Cleanup(drop.Close)
	b, cancel := context.WithTimeout(browsertest.New(t, exe, 390, 844, browsertest.Camera(blinkCamera(t, m, 0))...), 4*time.Minute)
	t.Cleanup(cancel)
	type css = chromedp.CSS
	answer := func(name string) (outcome, text string) {
		t.Helper()
		if err := chromedp.Do(b, chromedp.WaitVisible(css(`#result`))); err != nil {
			t.Fatalf("%s: no answer shown: %v", name, err)
		}
		browsertest.Screenshot(t, b, "capture-"+name)
		o, err := chromedp.Run(b, chromedp.AttributeValue(css(`#result`), "data-outcome"))
		if err != nil {
			t.Fatal(err)
		}
		return o.Value, browsertest.Text(t, b, `#result`)
	}

	// The sign-in ends while the capture page is open.
	c.signIn(t, b, c.srv.URL)
	if err := chromedp.Do(b, chromedp.Click(css(`#certify`)), chromedp.WaitVisible(css(`#start`))); err != nil {
		t.Fatal(err)
	}
	c.clock.Add(c.h.pol.SessionTTL + time.Minute)
	if err := chromedp.Do(b, chromedp.Click(css(`#start`))); err != nil {
		t.Fatal(err)
	}
	if o, text := answer("expired"); o != "expired" || text != msg(langZH, "cap_expired") || links(t, b) != "/c/login" {
		t.Fatalf("after the sign-in ended: %s %q, buttons %q", o, text, links(t, b))
	}

	// The connection drops after the server has judged the burst.
	c.signIn(t, b, drop.URL)
	if err := chromedp.Do(b, chromedp.Click(css(`#certify`)), chromedp.WaitVisible(css(`#start`)), chromedp.Click(css(`#start`))); err != nil {
		t.Fatal(err)
	}
	if o, text := answer("lost"); o != "lost" || text != fmt.Sprintf(msg(langZH, "cap_lost"), HelpPhone) || links(t, b) != "/c/me /c/capture" {
		t.Fatalf("after the connection dropped: %s %q, buttons %q", o, text, links(t, b))
	}

	// A burst refused (here every burst is, as frozen; the fake camera's frames, the same
	// bytes as the last burst's, are a replay too, noted in the audit row): the words say
	// try again, and a button does (once only "我的认证").
	c.h.pol.MinEyeMovement = 2
	c.signIn(t, b, c.srv.URL)
	if err := chromedp.Do(b, chromedp.Click(css(`#certify`)), chromedp.WaitVisible(css(`#start`)), chromedp.Click(css(`#start`))); err != nil {
		t.Fatal(err)
	}
	if o, text := answer("reject"); o != "reject" || text != msg(langZH, "r_reject") || links(t, b) != "/c/capture /c/me" {
		t.Fatalf("a refused burst: %s %q, buttons %q", o, text, links(t, b))
	}
	c.h.pol.MinEyeMovement = DefaultPolicy().MinEyeMovement

	// A 12 MP portrait from the camera app through the file input.
	path := filepath.Join(t.TempDir(), "IMG_20240510_090000.jpg")
	if err := os.WriteFile(path, portraitPhoto(t), 0o644); err != nil {
		t.Fatal(err)
	}
	c.signIn(t, b, c.srv.URL)
	if err := chromedp.Do(b, chromedp.Click(css(`#certify`)), chromedp.WaitVisible(css(`#file`)),
		chromedp.SetUploadFiles(css(`#file`), []string{path}), chromedp.Click(css(`#form button[type=submit]`))); err != nil {
		t.Fatal(err)
	}
	if o, text := answer("photo"); o != "review" || text != msg(langZH, "r_review") || links(t, b) != "/c/me" {
		t.Fatalf("a phone's portrait photo: %s %q, buttons %q", o, text, links(t, b))
	}
	var sent []byte
	if err := c.db.SQL().QueryRow(`SELECT photo FROM citizen_reviews WHERE status = 'open'`).Scan(&sent); err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(sent))
	if err != nil || cfg.Width > 1280 || cfg.Height > 1280 || cfg.Height <= cfg.Width {
		t.Fatalf("the page sent a %d×%d picture (%v), want a portrait of at most 1280 px a side", cfg.Width, cfg.Height, err)
	}
}
