package service

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/store"
)

// randomState builds a state with every field set from r, including the edge values
// (NoDate, NoRef, empty and nil slices).
func randomState(r *rand.Rand) engine.State {
	date := func() sc.Date {
		switch r.IntN(4) {
		case 0:
			return sc.NoDate
		case 1:
			return sc.Date(r.Int32())
		}
		return sc.Date(19000 + r.IntN(2000))
	}
	ref := func() engine.Ref {
		if r.IntN(3) == 0 {
			return engine.NoRef
		}
		return engine.Ref(r.Uint64() >> r.IntN(64))
	}
	months := func() engine.Months {
		n := r.IntN(4)
		if n == 0 {
			return nil
		}
		ms := make(engine.Months, n)
		m := sc.Month(24000 + r.IntN(100))
		for i := range ms {
			ms[i] = engine.MonthRange{From: m, To: m + sc.Month(r.IntN(30))}
			m = ms[i].To + 2
		}
		return ms
	}
	st := engine.State{Status: sc.Status(r.IntN(8)), Period: uint8(r.IntN(25)), LastMethod: sc.Method(r.IntN(6)),
		RowStatus: sc.Status(r.IntN(8)), Until: date(), LastCertified: date(), LastEvidence: ref(), DeathDate: date(),
		DeathRef: ref(), LastStrong: date(), LastStrongRef: ref(), RowDay: date()}
	for range r.IntN(9) {
		st.Weak = append(st.Weak, engine.Trace{Day: date(), Type: sc.TypeID(r.IntN(40)), Ref: ref()})
	}
	if n := r.IntN(4); n > 0 {
		st.Ents = make([]engine.EntState, n)
	}
	for i := range st.Ents {
		st.Ents[i] = engine.EntState{Regular: months(), Back: months()}
	}
	if r.IntN(3) == 0 {
		st.Evidence = engine.NewEvidence()
		st.Evidence.Count[0] = r.Int32()
		st.Evidence.Recent = []engine.Trace{{Day: date(), Type: 3, Ref: ref()}}
	}
	if r.IntN(2) == 0 {
		rr := &engine.Rare{}
		for range r.IntN(3) {
			rr.Deaths = append(rr.Deaths, engine.DeathRecord{Date: date(), Ref: ref()})
		}
		for range r.IntN(3) {
			rr.Losses = append(rr.Losses, engine.LossEvent{Date: date(), Restore: r.IntN(2) == 0, Ref: ref()})
		}
		if r.IntN(2) == 0 {
			rr.Conflict = &engine.Conflict{Cause: ref(), Other: ref(), Strong: ref(), StrongDate: date(), StrongMethod: sc.Method(r.IntN(6))}
			for range r.IntN(3) {
				rr.Conflict.Losses = append(rr.Conflict.Losses, engine.LossEvent{Date: date(), Restore: r.IntN(2) == 0, Ref: ref()})
			}
		}
		for range r.IntN(4) {
			rr.Held = append(rr.Held, engine.Held{Month: sc.Month(r.Int32()), Ent: uint8(r.IntN(4)), Reason: sc.Status(r.IntN(8)), ClockPayable: r.IntN(2) == 0, Counted: r.IntN(4) == 0, Dropped: r.IntN(4) == 0})
		}
		for range r.IntN(4) {
			rr.Due = append(rr.Due, engine.Due{Month: sc.Month(r.Int32()), Ent: uint8(r.IntN(4)), Dropped: r.IntN(4) == 0})
		}
		for range r.IntN(3) {
			rr.AfterDeath = append(rr.AfterDeath, engine.LossEvent{Date: date(), Restore: r.IntN(2) == 0, Ref: ref()})
		}
		if r.IntN(4) == 0 {
			rr.DeathUnpaid = months()
		}
		st.Rare = rr
	}
	return st
}

func TestStateCodecRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		st := randomState(r)
		b, err := encodeState(&st)
		if err != nil {
			t.Fatal(err)
		}
		var got engine.State
		if err := decodeState(b, &got); err != nil {
			t.Fatalf("state %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, st) {
			t.Fatalf("state %d:\n got  %+v\n want %+v", i, got, st)
		}
		b2, _ := encodeState(&got)
		if string(b2) != string(b) {
			t.Fatalf("state %d: encoding is not stable", i)
		}
		// Databases written before the binary format hold JSON: still read.
		js, _ := json.Marshal(st)
		var fromJSON engine.State
		if err := decodeState(js, &fromJSON); err != nil || !reflect.DeepEqual(fromJSON, st) {
			t.Fatalf("state %d from JSON: %v", i, err)
		}
	}
}

// TestStateCodecReadsEarlierBlobs: a blob written before the state kept the LOSS and
// RESTORE records of a terminated person (Rare.AfterDeath; session 15) reads as before and
// is written back to the same bytes; one with such records keeps them.
func TestStateCodecReadsEarlierBlobs(t *testing.T) {
	old, _ := hex.DecodeString("01050c010584bb02aab502c2ba02aab502c6ba02080a08000101c4fb021600000101c2ba020a02c6b6020004c0b70201050001cefb0200040101d0fb0200")
	var st engine.State
	if err := decodeState(old, &st); err != nil {
		t.Fatal(err)
	}
	if st.Rare == nil || st.Rare.AfterDeath != nil || len(st.Rare.Due) != 1 || st.DeathDate != sc.MustDate("2025-02-10") {
		t.Fatalf("decoded %+v %+v", st, st.Rare)
	}
	if b, _ := encodeState(&st); !bytes.Equal(b, old) {
		t.Errorf("written back as % x", b)
	}
	st.Rare.AfterDeath = []engine.LossEvent{{Date: sc.MustDate("2025-03-01"), Ref: 11}, {Date: sc.MustDate("2025-05-01"), Restore: true, Ref: 12}}
	b, _ := encodeState(&st)
	var got engine.State
	if err := decodeState(b, &got); err != nil || !reflect.DeepEqual(got, st) {
		t.Errorf("with AfterDeath: %v\n got  %+v\n want %+v", err, got.Rare, st.Rare)
	}
	// Version 2, so that a binary reading version 1 refuses it by its version rather
	// than by "state blob has 6 bytes too many".
	if b[0] != stateCodecV2 {
		t.Errorf("with AfterDeath: version %d, want %d", b[0], stateCodecV2)
	}
	// Session 15's binaries wrote them with version 1: still read, written back as 2.
	v1 := append([]byte{stateCodecV1}, b[1:]...)
	got = engine.State{}
	if err := decodeState(v1, &got); err != nil || !reflect.DeepEqual(got, st) {
		t.Errorf("version 1 with AfterDeath: %v\n got  %+v\n want %+v", err, got.Rare, st.Rare)
	}
	// Version 2 without them is not a blob this binary wrote.
	if err := decodeState(append([]byte{stateCodecV2}, old[1:]...), &got); err == nil {
		t.Error("version 2 without AfterDeath read without error")
	}
}

// TestStateCodecCountedHeld: a held month already counted as back pay is kept, in a
// version 2 blob (a binary reading version 1 would take its flag for ClockPayable false).
func TestStateCodecCountedHeld(t *testing.T) {
	st := engine.State{Rare: &engine.Rare{Held: []engine.Held{
		{Month: mustMonth(t, "2024-06"), Reason: sc.StatusLoss, ClockPayable: true, Counted: true},
		{Month: mustMonth(t, "2024-07"), Reason: sc.StatusLoss, ClockPayable: true},
	}}}
	b, _ := encodeState(&st)
	var got engine.State
	if err := decodeState(b, &got); err != nil || !reflect.DeepEqual(got, st) || b[0] != stateCodecV2 {
		t.Errorf("version %d: %v\n got  %+v\n want %+v", b[0], err, got.Rare, st.Rare)
	}
	st.Rare.Held[0].Counted = false
	if b, _ = encodeState(&st); b[0] != stateCodecV1 {
		t.Errorf("nothing counted: version %d, want %d", b[0], stateCodecV1)
	}
}

// TestStateCodecDroppedBackPay: a month held TERMINATED and counted (back pay a death kept
// from being paid, counted dropped) is read from a version 2 blob as Dropped and written
// back to the same bytes; a month counted dropped that is due again, or held for a LOSS,
// is kept in a version 3 blob (a binary reading version 2 would lose it, and count the
// month dropped a second time).
func TestStateCodecDroppedBackPay(t *testing.T) {
	st := engine.State{Rare: &engine.Rare{Held: []engine.Held{
		{Month: mustMonth(t, "2024-09"), Reason: sc.StatusTerminated, Counted: true, Dropped: true},
		{Month: mustMonth(t, "2024-10"), Reason: sc.StatusTerminated},
	}}}
	v2, _ := encodeState(&st)
	if v2[0] != stateCodecV2 {
		t.Fatalf("version %d, want %d", v2[0], stateCodecV2)
	}
	// As a binary before Dropped wrote it (021156a's encodeState, the same state).
	if hex.EncodeToString(v2) != "020000000000000000000101010000000100000002d0fb02000502d2fb020005000000" {
		t.Errorf("bytes %x", v2)
	}
	var got engine.State
	if err := decodeState(v2, &got); err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("%v: held %+v", err, got.Rare.Held)
	}
	if b, _ := encodeState(&got); !bytes.Equal(b, v2) {
		t.Errorf("written back as % x, want % x", b, v2)
	}
	for _, rr := range []*engine.Rare{
		{Due: []engine.Due{{Month: mustMonth(t, "2024-09"), Dropped: true}, {Month: mustMonth(t, "2024-10")}}},
		{Held: []engine.Held{{Month: mustMonth(t, "2024-09"), Reason: sc.StatusLoss, ClockPayable: true, Counted: true, Dropped: true}}},
		{Held: []engine.Held{{Month: mustMonth(t, "2024-09"), Reason: sc.StatusTerminated, Counted: true}}}, // not Dropped: only version 3 says so
	} {
		st := engine.State{Rare: rr}
		b, _ := encodeState(&st)
		got = engine.State{}
		if err := decodeState(b, &got); err != nil || !reflect.DeepEqual(got, st) || b[0] != stateCodecV3 {
			t.Errorf("version %d: %v\n got  %+v\n want %+v", b[0], err, got.Rare, st.Rare)
		}
		// A version 2 reading of it is refused by its version.
		if err := decodeState(append([]byte{stateCodecV2}, b[1:]...), &got); err == nil && reflect.DeepEqual(got, st) {
			t.Errorf("read as version 2: %+v", got.Rare)
		}
	}
	// Version 3 without a month it is for is not a blob this binary wrote.
	st = engine.State{Rare: &engine.Rare{Held: []engine.Held{{Month: mustMonth(t, "2024-09"), Reason: sc.StatusLoss, Counted: true}}}}
	if b, _ := encodeState(&st); b[0] != stateCodecV2 {
		t.Errorf("a month counted, not dropped: version %d, want %d", b[0], stateCodecV2)
	} else if err := decodeState(append([]byte{stateCodecV3}, b[1:]...), &got); err == nil {
		t.Error("version 3 without a month counted dropped read without error")
	}
}

// TestStateCodecDeathUnpaid: the months a death kept unpaid (back_pay_voided_death) make a
// version 4 blob, read back the same, with the version 3 flags of its held months; a
// version 3 reading of it is refused, and a version 4 blob without such months is not
// one this binary wrote. A state without them keeps its earlier version and bytes.
func TestStateCodecDeathUnpaid(t *testing.T) {
	st := engine.State{Rare: &engine.Rare{
		Held:        []engine.Held{{Month: mustMonth(t, "2024-09"), Reason: sc.StatusLoss, ClockPayable: true, Counted: true, Dropped: true}},
		DeathUnpaid: engine.Months{{From: mustMonth(t, "2024-03"), To: mustMonth(t, "2024-05")}},
	}}
	b, _ := encodeState(&st)
	var got engine.State
	if err := decodeState(b, &got); err != nil || !reflect.DeepEqual(got, st) || b[0] != stateCodecV4 {
		t.Fatalf("version %d: %v\n got  %+v\n want %+v", b[0], err, got.Rare, st.Rare)
	}
	if err := decodeState(append([]byte{stateCodecV3}, b[1:]...), &got); err == nil && reflect.DeepEqual(got, st) {
		t.Errorf("read as version 3: %+v", got.Rare)
	}
	st.Rare.DeathUnpaid = nil
	v3, _ := encodeState(&st)
	if v3[0] != stateCodecV3 {
		t.Errorf("without the months: version %d, want %d", v3[0], stateCodecV3)
	}
	if err := decodeState(append(append([]byte{stateCodecV4}, v3[1:]...), 0), &got); err == nil {
		t.Error("version 4 without months a death kept unpaid read without error")
	}
}

func mustMonth(t *testing.T, s string) sc.Month {
	m, err := sc.ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestStateCodecNewerVersion: a blob of a version this binary does not know says it was
// written by a newer silentcert.
func TestStateCodecNewerVersion(t *testing.T) {
	var st engine.State
	b, _ := encodeState(&st)
	b[0] = stateCodecMax + 1
	if err := decodeState(b, &st); err == nil || !strings.Contains(err.Error(), "newer silentcert") {
		t.Errorf("version %d: %v", b[0], err)
	}
}

// TestStateCodecKnowsEveryField fails when the engine's state gains a field: the codec
// must then be taught to keep it (and its version raised).
func TestStateCodecKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int
	}{
		{engine.State{}, 18}, // Evidence is kept as JSON: its fields may change freely
		{engine.Rare{}, 7}, {engine.Conflict{}, 6}, {engine.Held{}, 6}, {engine.Due{}, 3},
		{engine.Trace{}, 3}, {engine.DeathRecord{}, 2}, {engine.LossEvent{}, 3}, {engine.EntState{}, 2}, {engine.MonthRange{}, 2},
	} {
		if n := reflect.TypeOf(c.v).NumField(); n != c.want {
			t.Errorf("%T has %d fields; the state codec knows %d", c.v, n, c.want)
		}
	}
}

func FuzzDecodeState(f *testing.F) {
	st := randomState(rand.New(rand.NewPCG(3, 4)))
	b, _ := encodeState(&st)
	f.Add(b)
	f.Add([]byte{1})
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		stateRoundTrip(t, b)
	})
}

// stateRoundTrip decodes b; a state that decodes encodes back to itself.
func stateRoundTrip(t *testing.T, b []byte) {
	t.Helper()
	var st engine.State
	if decodeState(b, &st) != nil {
		return
	}
	again, _ := encodeState(&st)
	var st2 engine.State
	if err := decodeState(again, &st2); err != nil || !reflect.DeepEqual(st, st2) {
		t.Fatalf("a decoded state did not come back from its encoding: %v\n% x", err, b)
	}
}

// mutate returns b damaged at random: bytes changed, cut, repeated or dropped.
func mutate(rng *rand.Rand, b []byte) []byte {
	b = bytes.Clone(b)
	for range 1 + rng.IntN(4) {
		if len(b) == 0 {
			return append(b, byte(rng.IntN(256)))
		}
		i := rng.IntN(len(b))
		switch rng.IntN(5) {
		case 0:
			b[i] = byte(rng.IntN(256))
		case 1:
			b[i] ^= 1 << rng.IntN(8)
		case 2:
			b = b[:i]
		case 3:
			b = slices.Insert(b, i, b[i:min(len(b), i+1+rng.IntN(8))]...)
		default:
			b = slices.Delete(b, i, min(len(b), i+1+rng.IntN(8)))
		}
	}
	return b
}

// TestDamagedCodecs: the spill and state decoders on a hundred thousand damaged copies of
// valid encodings, as FuzzDecodeSpill and FuzzDecodeState do (the fuzzing engine runs
// them at a few executions a second in this package's large binary): never a panic or a
// hang; a spill file gives an error or rows, and a state that decodes encodes back to
// itself.
func TestDamagedCodecs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	spill := encodeSpill(spillRows(40, 7))
	st := randomState(rand.New(rand.NewPCG(3, 4)))
	state, _ := encodeState(&st)
	n := 50000
	if testing.Short() {
		n = 5000
	}
	for range n {
		decodeSpill(mutate(rng, spill), func(*Row) error { return nil })
		stateRoundTrip(t, mutate(rng, state))
	}
}

// TestStateDecodeErrorNamesPerson: a state the service cannot read is reported with the
// person's ID number, masked, not only the store's internal number.
func TestStateDecodeErrorNamesPerson(t *testing.T) {
	sp := &store.Person{PID: 5, Rec: sc.Recipient{PersonID: "371002194803150818"}, State: []byte{stateCodecMax + 1}}
	_, err := (&Service{}).fromStore(sp)
	if err == nil || !strings.Contains(err.Error(), "person 5 (3710**********0818)") || strings.Contains(err.Error(), "194803") {
		t.Errorf("error %v", err)
	}
}
