package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// rosterPerson is person pid as its generation gen of a roster gives it.
func rosterPerson(pid int64, gen int) *store.Person {
	return &store.Person{PID: pid, RosterRegion: fmt.Sprintf("3710%08d", gen), Status: sc.Status(gen % 3), Until: sc.Date(20000 + gen),
		Method: sc.Method(gen % 2), DeathDate: sc.NoDate, NextCheck: sc.Date(20100 + gen), Baselined: gen%2 == 1, Health: -1,
		State: []byte{byte(pid), byte(gen)},
		Rec: sc.Recipient{PersonID: fmt.Sprintf("3710021940%06d%d", pid, gen%10), Name: fmt.Sprintf("张%d-%d", (pid*7919)%1000, gen),
			Sex: 1 + gen%2, BirthDate: sc.Date(-10000 + int(pid)), HukouAddress: fmt.Sprintf("路%d号", gen), RegionCode: fmt.Sprintf("371002%06d", (pid*31+int64(gen))%997),
			Phone: fmt.Sprintf("138%08d", pid), AgentPhone: fmt.Sprintf("139%08d", gen), LastCertified: sc.Date(19000 + gen), NameConflicts: gen,
			Entitlements: []sc.Entitlement{{Benefit: "EMP_PENSION", Monthly: sc.Fen(100000 + gen), Start: sc.MakeMonth(2000, 4), End: sc.NoMonth}}}}
}

// TestPutPeople: PutPeople inserts the people not stored and replaces the others but for
// their person_id and health, in calls of several statements' worth of people, new and
// stored mixed in each; on SQLite a pid given twice in one call is written as its last
// row says.
func TestPutPeople(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			db := d.Open(t)
			want := map[int64]store.Person{}
			write := func(fn func(tx *store.Tx) error) { t.Helper(); committed(t, db, fn) }
			put := func(ps ...*store.Person) {
				t.Helper()
				write(func(tx *store.Tx) error { return tx.PutPeople(ps) })
				for _, p := range ps {
					w := *p
					if old, ok := want[p.PID]; ok {
						w.Rec.PersonID, w.Health = old.Rec.PersonID, old.Health
					} else {
						w.Health = -1 // the column's default
					}
					want[p.PID] = w
				}
			}
			var ps []*store.Person
			for pid := range int64(1200) {
				ps = append(ps, rosterPerson(pid, 0))
			}
			put(ps...)
			// Health is the evidence model's, written by PutStates: PutPeople leaves it.
			h := want[900]
			h.Health, h.Unmoved, h.HealthMoved = 700, true, true
			write(func(tx *store.Tx) error { return tx.PutStates([]*store.Person{&h}) })
			w := want[900]
			w.Health = 700
			want[900] = w
			// Stored and new alternate: every statement's worth holds both.
			ps = ps[:0]
			for i := range int64(300) {
				ps = append(ps, rosterPerson(900+i, 1), rosterPerson(1200+i, 1))
			}
			ps[0].Health = 5
			put(ps...)
			if d.Name == "sqlite" { // PostgreSQL refuses a statement that writes a row twice
				put(rosterPerson(1500, 2), rosterPerson(5, 2), rosterPerson(1500, 3), rosterPerson(5, 3))
			}
			got := map[int64]store.Person{}
			if err := db.LoadPeople(ctx, func(p *store.Person) error {
				got[p.PID] = *p
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d people stored, want %d", len(got), len(want))
			}
			for pid, w := range want {
				g := got[pid]
				if !reflect.DeepEqual(g.Rec, w.Rec) || g.RosterRegion != w.RosterRegion || g.Status != w.Status || g.Until != w.Until ||
					g.Method != w.Method || g.DeathDate != w.DeathDate || g.NextCheck != w.NextCheck || g.Baselined != w.Baselined ||
					string(g.State) != string(w.State) || g.Health != w.Health {
					t.Errorf("pid %d:\n got %+v\nwant %+v", pid, g, w)
				}
			}
		})
	}
}

// TestPutPeopleKeepsNoStatementJournal: on SQLite, PutPeople writes new people, stored
// people and both mixed with statements that need no statement journal. A statement that
// may fail after writing some of its rows has SQLite copy every page it changes into a
// journal of its own, to undo it alone: at 100,000 people a few MiB of people's index
// pages each 500 people, which modernc.org/sqlite's allocator hands back to the system
// after each statement (madvise): 40 % of a roster import's CPU. The test makes the
// journal visible: with temp_store=FILE, SQLite moves a statement journal past 64 KiB into
// a temporary file, unlinked as soon as made and open until the transaction ends.
func TestPutPeopleKeepsNoStatementJournal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts the open files in /proc/self/fd")
	}
	ctx := context.Background()
	unlinked := func() map[string]bool { // the files open that are unlinked
		t.Helper()
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, fd := range fds {
			if to, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasSuffix(to, " (deleted)") {
				out[fd.Name()+" "+to] = true
			}
		}
		return out
	}
	people := func(from, to int64, gen int) (ps []*store.Person) {
		for pid := from; pid < to; pid++ {
			ps = append(ps, rosterPerson(pid, gen))
		}
		return ps
	}
	for _, c := range []struct {
		name   string
		stored []*store.Person // before
		ps     []*store.Person
	}{
		{"new", nil, people(0, 2000, 0)},
		{"stored", people(0, 2000, 0), people(0, 2000, 1)},
		{"mixed", people(0, 2000, 0), people(1500, 2500, 1)},
	} {
		db := storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "j.db"))
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.PutPeople(c.stored); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, `PRAGMA temp_store = FILE`); err != nil { // the writer's one connection
			t.Fatal(err)
		}
		before := unlinked()
		if tx, err = db.Begin(ctx); err != nil {
			t.Fatal(err)
		}
		var temp int
		if err := tx.QueryRow(`PRAGMA temp_store`).Scan(&temp); err != nil || temp != 1 {
			t.Fatalf("temp_store %d %v, want 1 (FILE)", temp, err)
		}
		if err := tx.PutPeople(c.ps); err != nil {
			t.Fatal(err)
		}
		for f := range unlinked() {
			if !before[f] {
				t.Errorf("%s: a statement journal is open after PutPeople: %s", c.name, f)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPutPeopleRefused: a person PutPeople cannot write (a person_id stored under another
// pid, no state) fails it, whether new or stored, alone or among others.
func TestPutPeopleRefused(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			db := d.Open(t)
			var ps []*store.Person
			for pid := range int64(10) {
				ps = append(ps, rosterPerson(pid, 0))
			}
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.PutPeople(ps); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			clash := &store.Person{PID: 13, Rec: sc.Recipient{PersonID: ps[0].Rec.PersonID}, State: []byte{}}
			for _, c := range []struct {
				name string
				ps   []*store.Person
			}{
				{"new, numbered on", []*store.Person{rosterPerson(10, 1), rosterPerson(11, 1), rosterPerson(12, 1), {PID: 13, Rec: ps[0].Rec, State: []byte{}}}},
				{"new, alone", []*store.Person{clash}},
				{"new, after a gap", []*store.Person{rosterPerson(20, 1), clash}},
				{"stored, no state", []*store.Person{rosterPerson(1, 1), rosterPerson(2, 1), {PID: 4, Rec: ps[4].Rec}, rosterPerson(3, 1)}},
			} {
				tx, err := db.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := tx.PutPeople(c.ps); err == nil {
					t.Errorf("%s: written", c.name)
				}
				tx.Rollback()
			}
			n := 0
			if err := db.LoadPeople(ctx, func(p *store.Person) error {
				if !reflect.DeepEqual(p.Rec, ps[p.PID].Rec) {
					t.Errorf("pid %d changed: %+v", p.PID, p.Rec)
				}
				n++
				return nil
			}); err != nil || n != len(ps) {
				t.Fatalf("%d people stored (%v), want %d", n, err, len(ps))
			}
		})
	}
}
