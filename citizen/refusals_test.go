package citizen

import (
	"net/http"
	"testing"

	"github.com/silentcert/silentcert/store/storetest"
)

// TestRefusalsBeforeTheNonce: refusals before an attempt's nonce is spent are audited the
// first time in a day, not each time (a stale page or a script posting again and again
// would flood the trail): a wrong nonce, a wrong CSRF token. An attempt that fails once
// its nonce is spent (here its analysis) is audited with the stage it failed at.
func TestRefusalsBeforeTheNonce(t *testing.T) {
	m := testModels(t)
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			c := newCity(t, dsn.Open(t), m)
			pid := c.pid(t, zhang)
			cl := c.browser(t)
			c.loginByLink(t, cl, zhang, false)
			_, csrf := c.capture(t, cl)
			for range 30 {
				if st, _ := c.send(t, cl, "nonsense", csrf, [][]byte{{0xff}}, true); st != http.StatusConflict {
					t.Fatalf("a wrong nonce: %d", st)
				}
			}
			if n := len(c.audited(t, pid, "citizen_face", "nonce_refused")); n != 1 {
				t.Errorf("30 wrong nonces wrote %d audit rows, want the first", n)
			}
			for range 30 {
				if st, _ := c.send(t, cl, "nonsense", "wrong", [][]byte{{0xff}}, true); st != http.StatusForbidden {
					t.Fatalf("a wrong CSRF token: %d", st)
				}
			}
			if n := c.countAudit(t, pid, "citizen_face", "attempt_refused", "reason=csrf"); n != 1 {
				t.Errorf("30 wrong CSRF tokens wrote %d audit rows, want the first", n)
			}

			withFault(t, "analyse")
			nonce, _ := c.capture(t, cl)
			if st, _ := c.send(t, cl, nonce, csrf, [][]byte{{0xff}}, true); st != http.StatusInternalServerError {
				t.Fatalf("a failed analysis: %d", st)
			}
			if n := c.countAudit(t, pid, "citizen_face", "attempt_failed", "stage=analysis"); n != 1 {
				t.Errorf("a failed analysis wrote %d attempt_failed rows", n)
			}
		})
	}
}
