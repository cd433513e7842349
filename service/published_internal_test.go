package service

import (
	"context"
	"os"
	"reflect"
	"runtime"
	"slices"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/store"
)

// TestPublishCopiesOnWrite: a publication is never changed by the commits after it (a
// reader may hold it meanwhile), and each holds, for every person, what they were at its
// commit: pages shared where nobody changed, people added, a Rare gained and lost (a
// failed batch's undo), over several pages.
func TestPublishCopiesOnWrite(t *testing.T) {
	s := &Service{eng: engine.New(sc.DefaultConfig())}
	died := sc.MustDate("2024-01-15")
	person := func(pid int64, dead bool) *Person {
		p := &Person{PID: pid, Rec: &sc.Recipient{PersonID: "p" + itoa(pid), RegionCode: "3710",
			Entitlements: []sc.Entitlement{{Benefit: "EMP_PENSION", Monthly: 100, Start: died.Month() - 12, End: sc.NoMonth}}}}
		p.State.Ents = []engine.EntState{{Regular: engine.Months{{From: died.Month() - 6, To: died.Month() + 2}}}}
		p.State.DeathDate = sc.NoDate
		if dead {
			p.State.Rare = &engine.Rare{}
			p.State.DeathDate = died
		}
		return p
	}
	for pid := range int64(3*casePage + 7) {
		s.ppl = append(s.ppl, person(pid, pid%97 == 0))
	}
	s.publish(nil)
	first := s.published()
	// what a publication must hold: each person's input as made when it was published
	want := func(ci *caseInputs, of []*Person) {
		t.Helper()
		if ci.n != int64(len(of)) {
			t.Fatalf("a publication of %d people holds %d", len(of), ci.n)
		}
		for pid, p := range of {
			if got, w := ci.get(int64(pid)), s.caseInputOf(p); !reflect.DeepEqual(got, w) {
				t.Fatalf("person %d: published %+v, want %+v", pid, got, w)
			}
		}
	}
	frozen := func(ppl []*Person) []*Person { // the people as they are now, deep
		out := make([]*Person, len(ppl))
		for i, p := range ppl {
			c := *p
			r := *p.Rec
			c.Rec, c.State = &r, cloneState(&p.State)
			out[i] = &c
		}
		return out
	}
	atFirst := frozen(s.ppl)
	want(first, atFirst)

	// A commit: one dies on page 1, one on page 2 moves, one's overpaid months grow in
	// place, one on page 0 loses its death and Rare (put back), and two people are added.
	s.ppl[casePage+3].State.Rare = &engine.Rare{}
	s.ppl[casePage+3].State.DeathDate = died
	s.ppl[97*11].Rec.RegionCode = "3711" // on page 2, not in the commit: stays as published
	s.ppl[97].Rec.RegionCode = "3799"
	s.ppl[97].State.Ents[0].Regular[0].To++
	s.ppl[0].State.Rare, s.ppl[0].State.DeathDate = nil, sc.NoDate
	s.ppl = append(s.ppl, person(int64(len(s.ppl)), true), person(int64(len(s.ppl)+1), false))
	s.publish(slices.Values([]int64{casePage + 3, 97, 0}))
	second := s.published()
	want(first, atFirst) // untouched by the commit after it
	atSecond := frozen(s.ppl)
	atSecond[97*11].Rec.RegionCode = atFirst[97*11].Rec.RegionCode
	want(second, atSecond)
	if first.get(0) == nil || first.get(casePage+3) != nil || second.get(0) != nil || second.get(casePage+3) == nil || second.get(second.n-2) == nil {
		t.Error("the people overpaid are not those published")
	}
	if first.pages[2] != second.pages[2] || first.pages[1] == second.pages[1] || first.pages[0] == second.pages[0] {
		t.Error("pages copied that no one changed, or shared that someone did")
	}
	// The people changed after it leave it as it was.
	s.ppl[97].State.Ents[0].Regular[0].To += 5
	want(second, atSecond)
}

// BenchmarkPublish publishes every person of the database SILENTCERT_PUBLISH_DB (a copy
// of bench/recoveries.sh's city, which it opens as its writer): what a payroll day, which
// changes everyone, adds to the commit, and in B/op the memory of a publication, beside
// the heap of the service that holds it.
func BenchmarkPublish(b *testing.B) {
	dsn := os.Getenv("SILENTCERT_PUBLISH_DB")
	if dsn == "" {
		b.Skip("set SILENTCERT_PUBLISH_DB")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := Open(ctx, db, Options{})
	if err != nil {
		b.Fatal(err)
	}
	rare := 0
	for in := range s.published().all() {
		if in != nil {
			rare++
		}
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	all := func(yield func(int64) bool) {
		for pid := range int64(len(s.ppl)) {
			if !yield(pid) {
				return
			}
		}
	}
	for b.Loop() {
		s.publish(all)
	}
	b.ReportMetric(float64(rare), "inputs")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB") // the service as opened, its publication included
}
