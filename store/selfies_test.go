package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestStaffSelfiesDropped: migration 0028 deletes the selfie reference of every person
// with a face accepted by staff (a review whose reason is not an on-the-spot "auto:"
// one), which the code before it had made their reference; a selfie accepted on the spot
// and every ID-card reference stay.
func TestStaffSelfiesDropped(t *testing.T) {
	for _, u := range storetest.URLs(t) {
		t.Run(u.Name, func(t *testing.T) {
			dsn := u.DSN(t)
			ctx := context.Background()
			db, err := store.OpenNoMigrate(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.MigrateTo(ctx, 27); err != nil {
				t.Fatal(err)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.SQL().Exec(db.Rebind(q), args...); err != nil {
					t.Fatal(err)
				}
			}
			ref := func(pid int, kind string) {
				exec(`INSERT INTO citizen_refs (pid, kind, template, created, photo, photo_expires) VALUES (?, ?, ?, 1, ?, 0)`, pid, kind, []byte{1}, []byte{})
			}
			review := func(pid int, reason, status string) {
				exec(`INSERT INTO citizen_reviews (pid, created, agent, distance, reason, template, photo, status, decided_by, decided_at, record)
					VALUES (?, 1, 0, 0.55, ?, ?, ?, ?, 'someone', 2, '')`, pid, reason, []byte{}, []byte{}, status)
			}
			ref(1, "selfie")
			review(1, "no_reference", "accepted") // staff accepted a face with nothing to compare
			ref(2, "selfie")
			review(2, "auto:distance=0.31", "accepted") // accepted on the spot
			ref(3, "selfie")
			ref(3, "idcard")
			review(3, "borderline", "accepted")
			ref(4, "selfie")
			review(4, "borderline", "visit") // sent to a visit, not accepted
			if err := db.MigrateTo(ctx, 28); err != nil {
				t.Fatal(err)
			}
			rows, err := db.SQL().Query(`SELECT pid, kind FROM citizen_refs ORDER BY pid, kind`)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				var pid int
				var kind string
				rows.Scan(&pid, &kind)
				got = append(got, string(rune('0'+pid))+":"+kind)
			}
			rows.Close()
			if want := "[2:selfie 3:idcard 4:selfie]"; fmt.Sprint(got) != want {
				t.Errorf("references after 0028: %s, want %s", fmt.Sprint(got), want)
			}
		})
	}
}
