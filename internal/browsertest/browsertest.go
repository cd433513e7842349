// Package browsertest starts headless Chromium for the browser tests of the console and
// of the citizen's pages: finding Debian's chromium (a failure under CI=true, a skip
// elsewhere), a browser per user with its own cookies, screenshots and element text.
// Only tests import it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Chromium returns the browser's path, skipping the test when it is missing, except under
// CI=true where a missing browser fails it.
func Chromium(t testing.TB) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is required under CI=true (apt-get install -y chromium)")
	}
	t.Skip("chromium not installed; set CI=true to make this a failure")
	return ""
}

// New starts one headless Chromium of the given window size, with its own cookies and
// any further options (Camera's); it is closed when the test ends.
func New(t testing.TB, exe string, width, height int, more ...chromedp.ExecAllocatorOption) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("headless", "new"), chromedp.WindowSize(width, height), chromedp.Flag("lang", "zh-CN"))
	opts = append(opts, more...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	return ctx
}

// Camera gives the browser a camera that plays the Y4M video at path in a loop, and lets
// every page use it without asking.
func Camera(path string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-file-for-fake-video-capture", path)}
}

// Screenshot saves the whole page as screenshots/NAME.png, beside the test.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll("screenshots", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("screenshots", name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Text returns the text of the element sel selects (CSS), failing the test on error.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Dialogs are the dialogs a browser's pages opened (the console asks before a money entry
// is recorded), each accepted as a user clicking OK would.
type Dialogs struct {
	mu   sync.Mutex
	msgs []string
}

// AcceptDialogs accepts every dialog ctx's page opens from now on and keeps its message.
func AcceptDialogs(ctx context.Context) *Dialogs {
	d := &Dialogs{}
	events := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			d.mu.Lock()
			d.msgs = append(d.msgs, ev.Message)
			d.mu.Unlock()
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				return
			}
		}
	}()
	return d
}

// Messages returns the messages of the dialogs accepted so far.
func (d *Dialogs) Messages() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.msgs...)
}
