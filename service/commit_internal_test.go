package service

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestCommitOfUnknownOutcome: the connection is lost as a transaction commits (PostgreSQL
// may or may not have stored it): the service no longer trusts the people it holds and
// refuses every write until it is restarted, which reads them again.
func TestCommitOfUnknownOutcome(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresDSN(t)
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	db := storetest.Open(t, url)
	s, err := Open(ctx, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The transaction's connection is the one idle in it; the COMMIT then fails on it.
	if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'idle in transaction'`); err != nil {
		t.Fatal(err)
	}
	if err := s.commit(tx); !errors.Is(err, store.ErrCommitOutcome) {
		t.Fatalf("a commit on a lost connection: %v", err)
	}
	if s.Broken() == nil {
		t.Fatal("the service did not stop writing")
	}
	if _, err := s.begin(ctx); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("a write after it: %v", err)
	}
	db.Close()
	s2, err := Open(ctx, storetest.Open(t, url), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err = s2.begin(ctx)
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if err := s2.commit(tx); err != nil || s2.Broken() != nil {
		t.Fatalf("a commit after the restart: %v", err)
	}
}
