package citizen

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silentcert/silentcert/store/storetest"
)

// TestSameUploadTwice: the capture page's upload sent twice (two taps on a slow line), the
// second while the first is still being judged, is judged once and both requests are
// answered as the first was — once the second, arriving last, said "this attempt has
// expired" over a certification. The nonce still certifies once, and is still refused
// from another session; a repeat of an attempt that failed says so again; a repeat that
// waits too long for the first's answer says the photos arrived, unless the first was
// stopped (its process with it): then it says to try again.
func TestSameUploadTwice(t *testing.T) {
	m := testModels(t)
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), m)
			_, photo := demo(t, "sample2.jpg")
			if err := importPhoto(ctx, c.db, zhang, photo, c.clock.Now(), "test"); err != nil {
				t.Fatal(err)
			}
			pid := c.pid(t, zhang)
			cl := c.browser(t)
			c.loginByLink(t, cl, zhang, false)
			nonce, csrf := c.capture(t, cl)
			frames := blinkBurst(t, m)

			// The first is held in its analysis until the second has been sent.
			started, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			fault = func(point string) error {
				if point == "analyse" {
					once.Do(func() { close(started) })
					<-release
				}
				return nil
			}
			t.Cleanup(func() { fault = nil })
			type answer struct {
				st int
				a  attemptResult
			}
			first, second := make(chan answer, 1), make(chan answer, 1)
			go func() { st, a := c.upload(t, cl, nonce, csrf, frames); first <- answer{st, a} }()
			<-started
			go func() { st, a := c.upload(t, cl, nonce, csrf, frames); second <- answer{st, a} }()
			time.Sleep(500 * time.Millisecond) // the second at the server, waiting (or not yet there: the same answer)
			close(release)
			a1, a2 := <-first, <-second
			if a1.st != http.StatusOK || a1.a.Outcome != "accept" || a1.a.Until == "" {
				t.Fatalf("the first upload: %d %+v", a1.st, a1.a)
			}
			if a2 != a1 {
				t.Fatalf("the same upload sent again was answered %d %+v; the first %d %+v", a2.st, a2.a, a1.st, a1.a)
			}
			fault = nil
			if n := c.faces(t, pid); n != 1 {
				t.Fatalf("%d HRSS.FACE records from one nonce, want 1", n)
			}
			if n := len(c.audited(t, pid, "citizen_face", "accept")); n != 1 {
				t.Fatalf("%d accept rows: the upload was judged %d times", n, n)
			}
			if n := c.countAudit(t, pid, "citizen_face", "nonce_refused", "reason=nonce_repeat;answered=accept"); n != 1 {
				t.Fatalf("%d nonce_refused rows for the repeat, want 1", n)
			}
			// Later, as the plain form: a page with the same words.
			if st, page := c.send(t, cl, nonce, csrf, frames, false); st != http.StatusOK || !strings.Contains(page, `data-outcome="accept"`) ||
				!strings.Contains(page, msg(langZH, "r_accept")) {
				t.Fatalf("the plain form's repeat: %d\n%s", st, page)
			}

			// Another session with that nonce: refused, as before.
			other := c.browser(t)
			c.loginByLink(t, other, zhang, false)
			_, csrf2 := c.capture(t, other)
			if st, a := c.upload(t, other, nonce, csrf2, frames); st != http.StatusConflict || a.Outcome != "refused" || a.Reason != "nonce" {
				t.Fatalf("another session's use of the nonce: %d %+v", st, a)
			}

			// An attempt that failed: its repeat says "busy, try later" too, not "expired".
			withFault(t, "analyse")
			nonce, _ = c.capture(t, cl)
			for range 2 {
				if st, _ := c.send(t, cl, nonce, csrf, frames, true); st != http.StatusInternalServerError {
					t.Fatalf("a failed analysis, or its repeat: %d", st)
				}
			}
			fault = nil

			// The first still being judged when the wait ends: the photos arrived, look later.
			defer func(d time.Duration) { repeatWait = d }(repeatWait)
			repeatWait = 300 * time.Millisecond
			nonce, _ = c.capture(t, cl)
			spent := func(at time.Time) {
				t.Helper()
				if _, err := c.db.SQL().Exec(c.db.Rebind(`UPDATE citizen_nonces SET used = ? WHERE hash = ?`), at.UnixNano(), hashOf(nonce)); err != nil {
					t.Fatal(err)
				}
			}
			spent(c.clock.Now().Add(-time.Minute))
			if st, a := c.upload(t, cl, nonce, csrf, frames); st != http.StatusAccepted || a.Outcome != "pending" || a.Message != msg(langZH, "r_pending") {
				t.Fatalf("a repeat whose first is not judged yet: %d %+v", st, a)
			}
			// The first's process stopped (spent longer ago than an attempt may take, with
			// no answer): the repeat says "try again", not that the photos are being checked.
			spent(c.clock.Now().Add(-attemptLimit - 31*time.Second))
			if st, a := c.upload(t, cl, nonce, csrf, frames); st != http.StatusServiceUnavailable || a.Outcome != "" {
				t.Fatalf("a repeat whose first was stopped: %d %+v", st, a)
			}
		})
	}
}
