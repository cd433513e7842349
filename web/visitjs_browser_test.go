package web_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/silentcert/silentcert/internal/browsertest"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestMoveFieldShownWhenMoved: with its script, the visit form shows the where-to field
// only once "moved" is chosen (the script looked for a field renamed since, and showed
// it always); on the move's question page every place offered keeps its radio button
// (the script hid the first one's, taking the page's choices for a visit form).
func TestMoveFieldShownWhenMoved(t *testing.T) {
	exe := browsertest.Chromium(t)
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "m.db")))
	zp, _ := c.db.PersonByID(context.Background(), zhang)
	b := browsertest.New(t, exe, 360, 640)
	hidden := func(sel string) bool {
		t.Helper()
		h, err := chromedp.Run(b, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).hidden`, sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return h
	}
	if err := chromedp.Do(b, loginAs(c.srv.URL, "v1"), chromedp.Navigate(fmt.Sprintf("%s/person/%d?back=village", c.srv.URL, zp.PID)),
		chromedp.WaitReady(css(`#v-region`))); err != nil {
		t.Fatal(err)
	}
	if !hidden(`#v-region`) {
		t.Error("the where-to field shows before an outcome is chosen")
	}
	if err := chromedp.Do(b, chromedp.Click(css(`#h-visit ~ form input[value=moved]`))); err != nil {
		t.Fatal(err)
	}
	if hidden(`#v-region`) {
		t.Fatal("the where-to field stays hidden with 'moved' chosen")
	}
	if err := chromedp.Do(b, chromedp.SendKeys(css(`#v-region`), "济南市历下区"), chromedp.Click(css(`#h-visit ~ form button[type=submit]`)),
		chromedp.WaitVisible(css(`#move-choose`))); err != nil {
		t.Fatal(err)
	}
	n, err := chromedp.Run(b, chromedp.Evaluate[int](`[...document.querySelectorAll('#move-choose input[type=radio]')].filter(e => e.hidden).length`))
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d places offered on the move's page have their radio button hidden", n)
	}
}
