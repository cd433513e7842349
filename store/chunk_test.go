package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// randomRecords makes n records of ascending ids with repeated and varied fields, as a
// file's rows have them.
func randomRecords(rng *rand.Rand, n int) []*store.Record {
	rs := make([]*store.Record, n)
	id := int64(rng.IntN(1000))
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	for i := range rs {
		id += 1 + int64(rng.IntN(3))
		rs[i] = &store.Record{ID: id, Source: pick("TRN", "HEA", "PSB"), RecordID: fmt.Sprintf("R%d", rng.IntN(1e9)),
			Type: pick("TRN.TRANSIT", "HEA.INPATIENT"), PID: int64(rng.IntN(5)) - 1, Link: rng.IntN(3), Held: rng.IntN(4) == 0,
			PersonID: pick("370102194501011234", "", "37010219450101123X"), Name: pick("张三", "李四", ""),
			BirthDate: sc.Date(rng.IntN(40000) - 20000), EventDate: sc.Date(rng.IntN(30000)), RegionCode: pick("371002001001", ""),
			Detail: pick("", "amount=1.50", "critical=1;place=威海"), Content: rng.Uint64(), Batch: int64(rng.IntN(3)),
			File: pick("records/TRN/2024-06.csv", "api"), Line: int64(rng.IntN(1 << 40))}
		rs[i].ReportedDate = rs[i].EventDate + sc.Date(rng.IntN(60)-5)
		if rs[i].Link > 0 || rs[i].PID < 0 { // linked to no one: no person, not held
			rs[i].Link, rs[i].PID, rs[i].Held = max(rs[i].Link, 1), -1, false
		}
	}
	return rs
}

func TestChunkRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 128} {
		rs := randomRecords(rng, n)
		b := store.EncodeChunk(nil, rs)
		var got []*store.Record
		if err := store.DecodeChunk(b, func(r *store.Record) error { c := *r; got = append(got, &c); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rs) {
			t.Fatalf("%d records back, want %d", len(got), len(rs))
		}
		for i := range rs {
			if !reflect.DeepEqual(got[i], rs[i]) {
				t.Fatalf("record %d: got %+v, want %+v", i, got[i], rs[i])
			}
		}
		// The keys alone, of every other record, are the full decode's.
		keys := map[int64]string{}
		if err := store.ChunkKeys(b, func(id int64) bool { return id%2 == 0 }, func(id int64, k string) { keys[id] = k }); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, r := range rs {
			if r.ID%2 == 0 {
				want++
				if keys[r.ID] != r.Source+":"+r.RecordID {
					t.Fatalf("record %d: key %q, want %s:%s", r.ID, keys[r.ID], r.Source, r.RecordID)
				}
			}
		}
		if len(keys) != want {
			t.Fatalf("%d keys, want %d", len(keys), want)
		}
		// Every cut of the chunk is refused, never a panic or a short read taken as whole.
		for cut := 0; cut < len(b); cut++ {
			if err := store.DecodeChunk(b[:cut], func(*store.Record) error { return nil }); err == nil && cut > 0 && n > 0 {
				t.Fatalf("a chunk cut at %d of %d bytes was read as whole", cut, len(b))
			}
		}
	}
}

func FuzzDecodeChunk(f *testing.F) {
	f.Add(store.EncodeChunk(nil, randomRecords(rand.New(rand.NewPCG(1, 1)), 3)))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var rs []*store.Record
		keys := map[int64]string{}
		keysErr := store.ChunkKeys(b, func(int64) bool { return true }, func(id int64, k string) { keys[id] = k })
		if store.DecodeChunk(b, func(r *store.Record) error { c := *r; rs = append(rs, &c); return nil }) != nil {
			if keysErr == nil {
				t.Fatal("the keys of a chunk the full decode refuses were read")
			}
			return
		}
		if keysErr != nil || len(keys) > len(rs) {
			t.Fatalf("keys of a good chunk: %v (%d keys, %d records)", keysErr, len(keys), len(rs))
		}
		for _, r := range rs {
			if keys[r.ID] != r.Source+":"+r.RecordID {
				t.Fatalf("record %d: key %q", r.ID, keys[r.ID])
			}
		}
		// What decodes re-encodes to records that decode the same.
		var again []*store.Record
		if err := store.DecodeChunk(store.EncodeChunk(nil, rs), func(r *store.Record) error { c := *r; again = append(again, &c); return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rs, again) {
			t.Fatal("re-encoded chunk differs")
		}
	})
}

// TestMoveRecords fills the wide records table of schema version 7 and checks that
// migration 8 moves every record, with its id, into the compact layout.
func TestMoveRecords(t *testing.T) {
	for _, u := range storetest.URLs(t) {
		t.Run(u.Name, func(t *testing.T) {
			dsn := u.DSN(t)
			ctx := context.Background()
			db, err := store.OpenNoMigrate(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.MigrateTo(ctx, 7); err != nil {
				t.Fatal(err)
			}
			rs := randomRecords(rand.New(rand.NewPCG(5, 6)), 300)
			for _, r := range rs {
				var pid any
				if r.PID >= 0 {
					pid = r.PID
				}
				held := 0
				if r.Held {
					held = 1
				}
				if _, err := db.SQL().Exec(db.Rebind(`INSERT INTO records (id, source, record_id, type, pid, link, held, person_id, name,
					birth_date, event_date, reported_date, region_code, detail, content, batch, file, line)
					VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`), r.ID, r.Source, r.RecordID, r.Type, pid, r.Link, held, r.PersonID, r.Name,
					int64(r.BirthDate), int64(r.EventDate), int64(r.ReportedDate), r.RegionCode, r.Detail, int64(r.Content), r.Batch, r.File, r.Line); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var got []store.Record
			if err := db.EachRecord(ctx, func(r *store.Record) error { got = append(got, *r); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(rs) {
				t.Fatalf("%s: %d records after the move, want %d", dsn, len(got), len(rs))
			}
			for i := range rs {
				if !reflect.DeepEqual(got[i], *rs[i]) {
					t.Fatalf("%s: record %d: got %+v, want %+v", dsn, i, got[i], *rs[i])
				}
			}
			// Each way in finds them: by key, by id, by person, held, unlinked, deliveries.
			r := rs[123]
			got1, ok, err := db.RecordByKey(ctx, r.Source, r.RecordID)
			if err != nil || !ok || got1.ID != r.ID {
				t.Fatalf("%s: by key: %+v %v %v", dsn, got1, ok, err)
			}
			keys, err := db.RecordKeys(ctx, []int64{rs[5].ID, rs[299].ID, rs[5].ID + 1000000})
			if err != nil || len(keys) != 2 || keys[rs[299].ID] != rs[299].Source+":"+rs[299].RecordID {
				t.Fatalf("%s: keys %v %v", dsn, keys, err)
			}
			// Many at once, out of order, repeated, across chunks, with ids no record has.
			var ask []int64
			want := map[int64]string{}
			for i := len(rs) - 1; i >= 0; i -= 7 {
				ask = append(ask, rs[i].ID, rs[i].ID)
				want[rs[i].ID] = rs[i].Source + ":" + rs[i].RecordID
			}
			ask = append(ask, -5, rs[len(rs)-1].ID+1, rs[len(rs)-1].ID+500)
			if keys, err := db.RecordKeys(ctx, ask); err != nil || !reflect.DeepEqual(keys, want) {
				t.Fatalf("%s: %d keys of %d wanted (%v)", dsn, len(keys), len(want), err)
			}
			for pid := int64(0); pid < 4; pid++ {
				want := 0
				for _, r := range rs {
					if r.PID == pid {
						want++
					}
				}
				pr, err := db.PersonRecords(ctx, pid)
				if err != nil || len(pr) != want {
					t.Fatalf("%s: person %d: %d records (%v), want %d", dsn, pid, len(pr), err, want)
				}
				for i := 1; i < len(pr); i++ {
					if pr[i].EventDate < pr[i-1].EventDate {
						t.Fatalf("%s: person %d's records out of event order", dsn, pid)
					}
				}
			}
			held, err := db.HeldRecords(ctx)
			wantHeld := 0
			for _, r := range rs {
				if r.Held {
					wantHeld++
				}
			}
			if err != nil || len(held) != wantHeld {
				t.Fatalf("%s: %d held (%v), want %d", dsn, len(held), err, wantHeld)
			}
			unlinked := map[string]int64{}
			if err := db.UnlinkedCounts(ctx, func(typ string, link int, n int64) { unlinked[fmt.Sprint(typ, link)] += n }); err != nil {
				t.Fatal(err)
			}
			wantUnlinked := map[string]int64{}
			dels := map[string]bool{}
			for _, r := range rs {
				if r.Link > 0 && !r.Held {
					wantUnlinked[fmt.Sprint(r.Type, r.Link)]++
				}
				dels[fmt.Sprint(r.Type, r.ReportedDate)] = true
			}
			if !reflect.DeepEqual(unlinked, wantUnlinked) {
				t.Fatalf("%s: unlinked %v, want %v", dsn, unlinked, wantUnlinked)
			}
			n := 0
			if err := db.DeliveryDays(ctx, func(typ string, d sc.Date) {
				if !dels[fmt.Sprint(typ, d)] {
					t.Errorf("%s: delivery %s %s not among the records", dsn, typ, d)
				}
				n++
			}); err != nil || n != len(dels) {
				t.Fatalf("%s: %d delivery days (%v), want %d", dsn, n, err, len(dels))
			}
			// New records continue after the moved ones.
			tx, err := db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ids, ins, _, err := tx.InsertRecords([]*store.Record{{Source: "X", RecordID: "new", Type: "TRN.TRANSIT", PID: 1}, {Source: r.Source, RecordID: r.RecordID, PID: 1}})
			if err != nil || !ins[0] || ins[1] || ids[0] != rs[299].ID+1 || ids[1] != r.ID {
				t.Fatalf("%s: after the move: ids %v inserted %v %v", dsn, ids, ins, err)
			}
			tx.Rollback()
		})
	}
}
