package service

import (
	"context"
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
	admin := storetest.Session(t, url)
	db := storetest.Open(t, url)
	s, err := Open(ctx, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A transaction on a handle that holds no claim (the claim's own check before COMMIT
	// would notice the lost session first): its COMMIT is what fails.
	tx, err := storetest.Open(t, url).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The transaction's own session, and no other test's; the COMMIT then fails on it.
	var pid int
	if err := tx.QueryRow(`SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
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

// TestCancelledBeforeCommit: a client that hangs up is no unknown outcome: a transaction
// its context cancelled before the COMMIT is rolled back, and the service goes on.
func TestCancelledBeforeCommit(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			s, err := Open(context.Background(), dsn.Open(t), Options{Fault: func(point string, _ int) {
				if point == "commit" {
					cancel()
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err == nil {
				t.Log("the roster was imported on a cancelled context") // the roster's own transaction may or may not see it
			}
			if s.Broken() != nil {
				t.Fatalf("a cancelled context stopped the service: %v", s.Broken())
			}
			if _, err := s.Ingest(context.Background(), Batch{Origin: "api", Source: "HEA", Actor: "t",
				Files: []File{{Name: "b.csv", Body: strings.NewReader("record_id,source,type,person_id,event_date\n")}}}); err != nil || s.Broken() != nil {
				t.Fatalf("a batch after it: %v %v", err, s.Broken())
			}
		})
	}
}
