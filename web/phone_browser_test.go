package web_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/silentcert/silentcert/internal/browsertest"
	"github.com/silentcert/silentcert/store/storetest"
)

// phoneProbe measures a page as a phone shows it: the document's width against the
// viewport's, the elements that stick out past its right edge, and the touch targets
// (links, buttons, fields, summaries, radio rows) less than 44 px tall or wide.
const phoneProbe = `(() => {
 const de = document.documentElement, cw = de.clientWidth;
 const out = {sw: de.scrollWidth, cw: cw, wide: [], small: []};
 const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || e.value || '').trim().replace(/\s+/g, ' ').slice(0, 24);
 document.querySelectorAll('body *').forEach(e => {
   const r = e.getBoundingClientRect();
   if (r.width === 0 || r.height === 0 || r.right <= 0) return;
   if (r.right > cw + 1 && !e.closest('.scroll')) out.wide.push(name(e) + ' right=' + Math.round(r.right));
 });
 document.querySelectorAll('a, button, select, textarea, summary, label.radio, input:not([type=hidden]):not([type=radio]):not([type=checkbox])').forEach(e => {
   const r = e.getBoundingClientRect();
   if (r.width === 0 || r.height === 0 || r.right <= 0 || e.closest('.vh')) return;
   if (r.height < 44 || r.width < 44) out.small.push(name(e) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
 });
 return out;
})()`

type phoneMeasure struct {
	SW    int      `json:"sw"`
	CW    int      `json:"cw"`
	Wide  []string `json:"wide"`
	Small []string `json:"small"`
}

// measure opens url ("" for the page shown) and measures it.
func measure(t *testing.T, ctx context.Context, url string) phoneMeasure {
	t.Helper()
	if url != "" {
		if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(css(`footer`))); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
	}
	m, err := chromedp.Run(ctx, chromedp.Evaluate[phoneMeasure](phoneProbe))
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return m
}

// phone is a browser the size of a phone, its text at percent of the browser's default
// size (the phone's own text-size setting).
func phone(t *testing.T, exe string, w, h int64, percent int) context.Context {
	ctx := browsertest.New(t, exe, 1280, 900)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.SetFontSizes, page.SetFontSizesParams{FontSizes: &page.FontSizes{Standard: int64(16 * percent / 100), Fixed: int64(13 * percent / 100)}}); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// TestPhoneLayout: on a 360×640 phone with its text at 200 % and on a 320×568 one, no
// console page is wider than the screen (a wide table scrolls in its own box); the
// browser's text size is followed, not overridden; on the village assistant's pages (the
// question where a person moved to among them) every target is at least 44 px each way
// at 360×640.
func TestPhoneLayout(t *testing.T) {
	exe := browsertest.Chromium(t)
	c := newRiskCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db")))
	base := c.srv.URL
	zp, _ := c.db.PersonByID(context.Background(), zhang)
	lp, _ := c.db.PersonByID(context.Background(), li)
	village := []string{"/village", fmt.Sprintf("/person/%d?back=village", zp.PID), fmt.Sprintf("/person/%d?kind=decision&back=village", zp.PID), "/search?q=张三", "/account"}
	staff := []string{"/", "/?region=371002001", "/work/warning", "/work/pending", "/work/suspended", "/work/conflict", "/work/risk", "/work/unassigned", fmt.Sprintf("/person/%d", lp.PID),
		fmt.Sprintf("/person/%d", zp.PID), "/search?q=张", "/recoveries", "/held", "/batches", "/audit", "/admin/users", "/account"}
	for _, size := range []struct {
		w, h    int64
		percent int
	}{{360, 640, 200}, {320, 568, 100}, {360, 640, 100}, {180, 320, 100}} {
		name := fmt.Sprintf("%dx%d at %d%%", size.w, size.h, size.percent)
		v := phone(t, exe, size.w, size.h, size.percent)
		if err := chromedp.Do(v, loginAs(base, "v1")); err != nil {
			t.Fatal(err)
		}
		if size.percent == 200 {
			fs, _ := chromedp.Run(v, chromedp.Evaluate[string](`getComputedStyle(document.documentElement).fontSize`))
			if fs != "32px" {
				t.Errorf("%s: the page's text is %s: the browser's text size is not followed", name, fs)
			}
		}
		for _, p := range append(village, "move") {
			url := base + p
			if p == "move" {
				// A move typed by the county's name, without JavaScript: the towns to choose from.
				url = ""
				if _, err := chromedp.Call(v, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
					t.Fatal(err)
				}
				if err := chromedp.Do(v, chromedp.Navigate(fmt.Sprintf("%s/person/%d?back=village", base, zp.PID)), chromedp.WaitReady(css(`footer`)),
					chromedp.Click(css(`#h-visit ~ form input[value=moved]`)), chromedp.SendKeys(css(`#v-region`), "济南市历下区"),
					chromedp.Click(css(`#h-visit ~ form button[type=submit]`)), chromedp.WaitVisible(css(`#move-choose`))); err != nil {
					t.Fatalf("%s: a move by name: %v", name, err)
				}
			}
			m := measure(t, v, url)
			if p == "move" && size.w == 360 {
				browsertest.Screenshot(t, v, fmt.Sprintf("move-phone-%d", size.percent))
			}
			if m.SW > m.CW || len(m.Wide) > 0 {
				t.Errorf("%s, village assistant, %s: %d px wide on a %d px screen: %s", name, p, m.SW, m.CW, strings.Join(m.Wide, "; "))
			}
			if size.w == 360 && size.percent == 100 && len(m.Small) > 0 {
				t.Errorf("%s, village assistant, %s: targets under 44 px: %s", name, p, strings.Join(m.Small, "; "))
			}
		}
		if size.w == 360 && size.percent == 100 {
			// 李秀英's village: its list of open risk flags, and the certified people's list opened.
			v2 := phone(t, exe, size.w, size.h, size.percent)
			if err := chromedp.Do(v2, loginAs(base, "v2"), chromedp.Navigate(base+"/village"), chromedp.WaitVisible(css(`#h-risk-visits`)),
				chromedp.Evaluate[chromedp.Void](`(document.querySelectorAll('details').forEach(d => d.open = true), {})`)); err != nil {
				t.Fatal(err)
			}
			if m := measure(t, v2, ""); len(m.Small) > 0 || m.SW > m.CW {
				t.Errorf("%s, village assistant, 李秀英's village: %d px wide; targets under 44 px: %s", name, m.SW, strings.Join(m.Small, "; "))
			}
		}
		op := phone(t, exe, size.w, size.h, size.percent)
		if err := chromedp.Do(op, loginAs(base, "admin")); err != nil {
			t.Fatal(err)
		}
		for _, p := range staff {
			if m := measure(t, op, base+p); m.SW > m.CW || len(m.Wide) > 0 {
				t.Errorf("%s, administrator, %s: %d px wide on a %d px screen: %s", name, p, m.SW, m.CW, strings.Join(m.Wide, "; "))
			}
		}
	}
}

// textFits measures, on the page shown, whether the search field's placeholder fits
// the field, and whether each masked ID number (.id) sits on one line and, out of a
// table that scrolls in its own box, inside the screen.
const textFits = `(() => {
 const out = {placeholder: '', ids: []};
 const q = document.querySelector('#q');
 if (q) {
   // The placeholder typed in: the field scrolls when its text does not fit the room
   // the field leaves it (less its padding and the search field's clear button).
   const was = q.value; q.value = q.placeholder;
   if (q.scrollWidth > q.clientWidth) out.placeholder = q.placeholder + ' ' + q.scrollWidth + '>' + q.clientWidth;
   q.value = was;
 }
 document.querySelectorAll('.id').forEach(e => {
   const r = document.createRange(); r.selectNodeContents(e);
   const lines = new Set([...r.getClientRects()].map(x => Math.round(x.top))).size;
   const b = e.getBoundingClientRect();
   if (lines > 1 || (b.right > document.documentElement.clientWidth && !e.closest('.scroll'))) out.ids.push(e.textContent + ' lines=' + lines + ' right=' + Math.round(b.right));
 });
 return out;
})()`

type textFit struct {
	Placeholder string   `json:"placeholder"`
	IDs         []string `json:"ids"`
}

// TestPhoneTextFits: at 200 % text on 360- and 320-px phones the search field's
// placeholder is not cut ("身份证号或姓…"), and a masked ID number is not broken across
// lines ("3710**********4 / 127"), nor pushed past the screen.
func TestPhoneTextFits(t *testing.T) {
	exe := browsertest.Chromium(t)
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db")))
	zp, _ := c.db.PersonByID(context.Background(), zhang)
	for _, size := range []struct{ w, h int64 }{{360, 640}, {320, 568}} {
		v := phone(t, exe, size.w, size.h, 200)
		if err := chromedp.Do(v, loginAs(c.srv.URL, "v1")); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/village", fmt.Sprintf("/person/%d?back=village", zp.PID), "/search?q=" + zhang} {
			if err := chromedp.Do(v, chromedp.Navigate(c.srv.URL+p), chromedp.WaitReady(css(`footer`))); err != nil {
				t.Fatal(err)
			}
			got, err := chromedp.Run(v, chromedp.Evaluate[textFit](textFits))
			if err != nil {
				t.Fatal(err)
			}
			if got.Placeholder != "" {
				t.Errorf("%dx%d, %s: the search placeholder is cut: %s", size.w, size.h, p, got.Placeholder)
			}
			if len(got.IDs) > 0 {
				t.Errorf("%dx%d, %s: masked IDs broken or past the screen: %v", size.w, size.h, p, got.IDs)
			}
			if p != "/village" {
				n, _ := chromedp.Run(v, chromedp.Evaluate[int](`document.querySelectorAll('.id').length`))
				if n == 0 {
					t.Errorf("%s: no masked ID marked .id", p)
				}
			}
		}
	}
}
