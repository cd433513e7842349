package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestOneWriter: a database has one writer of people's states at a time. A second handle
// (another process) is refused, naming the holder; the holder may claim again; once it
// closes, the other may claim.
func TestOneWriter(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ name, url string }{
		{"sqlite", "sqlite:" + filepath.Join(t.TempDir(), "w.db")},
		{"postgres", storetest.PostgresDSN(t)},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := storetest.Open(t, c.url), storetest.Open(t, c.url)
			if err := a.ClaimWriter(ctx); err != nil {
				t.Fatal(err)
			}
			if err := a.ClaimWriter(ctx); err != nil {
				t.Fatalf("the holder's second claim: %v", err)
			}
			err := b.ClaimWriter(ctx)
			if sc.ErrorCode(err) != sc.EConflict || !strings.Contains(err.Error(), "in use by") {
				t.Fatalf("a second writer: %v", err)
			}
			if want := fmt.Sprintf("pid %d", os.Getpid()); c.name == "sqlite" && !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not name the holder (%s): %v", want, err)
			}
			// Reading is never refused.
			if _, err := b.PersonByID(ctx, "110101194001010015"); sc.ErrorCode(err) != sc.ENotFound {
				t.Errorf("a read beside the writer: %v", err)
			}
			a.Close()
			if err := b.ClaimWriter(ctx); err != nil {
				t.Fatalf("after the holder closed: %v", err)
			}
		})
	}
}
