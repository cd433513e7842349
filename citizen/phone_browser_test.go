package citizen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/silentcert/silentcert/internal/browsertest"
	"github.com/silentcert/silentcert/store/storetest"
)

// phone is the capture page's site on a small phone (360×640) in a browser with the given
// fake camera, at twice the usual text size (the setting many older people choose), with
// the attempts posted to it counted.
type phone struct {
	c     *city
	b     context.Context
	base  string
	posts atomic.Int32
}

func newPhone(t *testing.T, camera string) *phone {
	exe := browsertest.Chromium(t)
	m := testModels(t)
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "b.db")), m)
	_, idPhoto := demo(t, "sample2.jpg")
	if err := importPhoto(context.Background(), c.db, zhang, idPhoto, c.clock.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	p := &phone{c: c}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/c/attempt" {
			p.posts.Add(1)
		}
		c.h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.base = srv.URL
	b, cancel := context.WithTimeout(browsertest.New(t, exe, 360, 640, browsertest.Camera(camera)...), 3*time.Minute)
	t.Cleanup(cancel)
	p.b = b
	if err := chromedp.Do(b, chromedp.EmulateViewport(360, 640, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b, page.SetFontSizes, page.SetFontSizesParams{FontSizes: &page.FontSizes{Standard: 32, Fixed: 26}}); err != nil {
		t.Fatal(err)
	}
	c.signIn(t, b, p.base)
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`#certify`)), chromedp.WaitVisible(chromedp.CSS(`#start`))); err != nil {
		t.Fatal(err)
	}
	if fs, err := chromedp.Run(b, chromedp.Evaluate[string](`getComputedStyle(document.documentElement).fontSize`)); err != nil || fs != "44px" {
		t.Fatalf("the page's text is %s (%v), want 44px: twice the usual", fs, err)
	}
	return p
}

// TestBrowserCapturePageLargeText: at twice the usual text size the capture page's first
// screen is the page, not its header (once 317 of 640 px: the title two characters a line
// beside a large "English" link, and 44 px margins a side); the language switch is in the
// footer, a target of at least 44 px, away from the title. Before 开始 no black camera
// box; on the tap the person sees themself, then 3, 2, 1 with what to do, and only then
// is the burst taken and sent; the button looks pressed meanwhile (once the camera opened
// and took the burst 0.8 s later, unannounced, the button unchanged).
func TestBrowserCapturePageLargeText(t *testing.T) {
	m := testModels(t)
	p := newPhone(t, blinkCamera(t, m, 0))
	type layout struct {
		Header, PadLeft, PadRight float64
		InHeader, InFooter        int
		LangW, LangH              float64
		VideoShown                bool
		StartBG                   string
	}
	l, err := chromedp.Run(p.b, chromedp.Evaluate[layout](`(() => {
		const main = getComputedStyle(document.querySelector("main")), lang = document.querySelector("footer a.lang");
		const r = lang ? lang.getBoundingClientRect() : {width: 0, height: 0};
		return {Header: document.querySelector("header").getBoundingClientRect().height,
			PadLeft: parseFloat(main.paddingLeft), PadRight: parseFloat(main.paddingRight),
			InHeader: document.querySelectorAll("header a").length, InFooter: document.querySelectorAll("footer a.lang").length,
			LangW: r.width, LangH: r.height, VideoShown: document.getElementById("video").offsetHeight > 0,
			StartBG: getComputedStyle(document.getElementById("start")).backgroundColor};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, p.b, "phone-capture-large-text")
	if l.Header > 80 || l.PadLeft > 16 || l.PadRight > 16 {
		t.Errorf("at 200%% text the header is %.0f px tall (want at most 80) and the margins %.0f and %.0f px (want at most 16)", l.Header, l.PadLeft, l.PadRight)
	}
	if l.InHeader != 0 || l.InFooter != 1 || l.LangW < 44 || l.LangH < 44 {
		t.Errorf("%d links in the header; the footer's language switch: %d, %.0f×%.0f px (want one, at least 44×44)", l.InHeader, l.InFooter, l.LangW, l.LangH)
	}
	if l.VideoShown {
		t.Error("a black camera box before 开始")
	}

	// What the page shows, in order, from the tap on 开始 to the upload.
	if err := chromedp.Do(p.b, chromedp.Evaluate[chromedp.Void](`(() => {
		window.seen = [];
		const count = document.getElementById("count");
		if (count) new MutationObserver(() => seen.push(count.textContent)).observe(count, {childList: true, characterData: true, subtree: true});
		const f = window.fetch;
		window.fetch = function () { seen.push("sent"); return f.apply(this, arguments); };
	})()`), chromedp.Click(chromedp.CSS(`#start`))); err != nil {
		t.Fatal(err)
	}
	type moment struct {
		Playing, Disabled bool
		BG, Guide         string
	}
	at3, err := chromedp.Run(p.b, chromedp.Poll[moment](`(() => {
		const c = document.getElementById("count"), v = document.getElementById("video"), s = document.getElementById("start");
		return c && c.textContent === "3" && {Playing: v.offsetHeight > 0 && v.readyState >= 2 && !v.paused, Disabled: s.disabled,
			BG: getComputedStyle(s).backgroundColor, Guide: document.getElementById("guide").textContent};
	})()`, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("no countdown after 开始: %v\n%s", err, browsertest.Text(t, p.b, "main"))
	}
	browsertest.Screenshot(t, p.b, "phone-capture-countdown")
	if n := p.posts.Load(); n != 0 || !at3.Playing || !at3.Disabled || at3.BG == l.StartBG || at3.Guide != msg(langZH, "cap_look") {
		t.Errorf("at 3: %d uploads, the picture playing %v, the button disabled %v, its colour %s (before %s), the words %q (want %q)",
			n, at3.Playing, at3.Disabled, at3.BG, l.StartBG, at3.Guide, msg(langZH, "cap_look"))
	}
	if err := chromedp.Do(p.b, chromedp.WaitVisible(chromedp.CSS(`#result`))); err != nil {
		t.Fatal(err)
	}
	seen, err := chromedp.Run(p.b, chromedp.Evaluate[[]string](`seen.filter(s => s !== "")`))
	if err != nil || strings.Join(seen, " ") != "3 2 1 sent" {
		t.Errorf("the page showed %q (%v), want 3 2 1, then the upload", seen, err)
	}
	if o, err := chromedp.Run(p.b, chromedp.AttributeValue(chromedp.CSS(`#result`), "data-outcome")); err != nil || o.Value != "accept" || p.posts.Load() != 1 {
		t.Errorf("outcome %q (%v) after %d uploads", o.Value, err, p.posts.Load())
	}
	browsertest.Screenshot(t, p.b, "phone-capture-result")
}

// TestBrowserCaptureTooDark: a burst in a dim room is not sent (the server would refuse
// it as too dark, and once it was sent and answered "no face seen"): the page says so,
// and 开始 works again on the same page.
func TestBrowserCaptureTooDark(t *testing.T) {
	m := testModels(t)
	b := blinkBurst(t, m)
	var dim [][]byte
	for _, f := range [][]byte{b[0], b[3], b[3]} {
		dim = append(dim, relit(t, f, func(v uint8) uint8 { return v / 6 }))
	}
	p := newPhone(t, fakeCamera(t, dim, 0))
	want := msg(langZH, "cap_dark")
	if err := chromedp.Do(p.b, chromedp.Click(chromedp.CSS(`#start`))); err != nil {
		t.Fatal(err)
	}
	_, err := chromedp.Run(p.b, chromedp.Poll[bool](`document.getElementById("guide").textContent === `+jsString(want)+
		` && !document.getElementById("start").disabled || !!document.getElementById("result")`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, p.b, "phone-capture-too-dark")
	if n := p.posts.Load(); n != 0 {
		t.Fatalf("a burst too dark was sent (%d uploads): %s", n, browsertest.Text(t, p.b, "main"))
	}
	if got := browsertest.Text(t, p.b, "#guide"); got != want {
		t.Fatalf("the page says %q, want %q", got, want)
	}
}

// TestBrowserUploadTappedTwice: two quick taps on 上传照片 send the photo once, and the
// answer has one set of buttons (once two uploads: the second's "this attempt has
// expired" shown over the first's answer, with both answers' buttons).
func TestBrowserUploadTappedTwice(t *testing.T) {
	m := testModels(t)
	p := newPhone(t, blinkCamera(t, m, 0))
	path := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(path, blinkBurst(t, m)[0], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(p.b, chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{path}),
		chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelector("#form button[type=submit]"); b.click(); b.click(); })()`),
		chromedp.WaitVisible(chromedp.CSS(`#result`))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // a second upload, were there one, answered too
	browsertest.Screenshot(t, p.b, "phone-upload-twice")
	o, err := chromedp.Run(p.b, chromedp.AttributeValue(chromedp.CSS(`#result`), "data-outcome"))
	if err != nil || o.Value != "review" || p.posts.Load() != 1 || links(t, p.b) != "/c/me" {
		t.Fatalf("two taps on 上传照片: %q (%v) after %d uploads, buttons %q: %s", o.Value, err, p.posts.Load(), links(t, p.b), browsertest.Text(t, p.b, "main"))
	}
}
