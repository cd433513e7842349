package citizen

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/silentcert/silentcert/store/storetest"
)

// TestNewLinkTx: a link made inside a transaction works once committed, and a rolled-back
// one does not exist.
func TestNewLinkTx(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			c := newCity(t, dsn.Open(t), nil)
			ctx := context.Background()
			make1 := func(commit bool) string {
				tx, err := c.db.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				url, err := NewLinkTx(tx, 0, c.clock.Now(), c.clock.Now().Add(72*time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				if commit {
					if err := tx.Commit(); err != nil {
						t.Fatal(err)
					}
				}
				return url
			}
			open := func(url string) (int, string) {
				resp, err := c.browser(t).Get(c.srv.URL + url)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			// A usable link asks for the ID's last four characters; an unknown one says the
			// link is invalid.
			good := make1(true)
			if code, body := open(good); code != 200 || !strings.Contains(body, `name="last4"`) {
				t.Fatalf("committed link: %d", code)
			}
			if _, body := open(make1(false)); strings.Contains(body, `name="last4"`) {
				t.Fatalf("a rolled-back link works like a real one")
			}
		})
	}
}
