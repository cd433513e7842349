package service

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/internal/wire"
)

// The store keeps each person's engine state as a blob. It is binary — a version byte,
// then varints — because a city's million states are read at every start and written on
// every payroll day, and JSON made those the slowest steps. WarnFrom and SuspendFrom are
// not stored: Engine.Derive recomputes them from Until and the policy. A blob that starts
// with '{' is the JSON of databases written before this format, and is still read. Later
// additions (a conflict's waiting LOSS records, a terminated person's) are written only
// when present, so that blobs written before them read the same and write back the same.
//
// The version byte is 1 unless the blob holds what a binary reading version 1 cannot:
// a terminated person's waiting LOSS and RESTORE records (Rare.AfterDeath) or a held
// month already counted as back pay (Held.Counted) make it 2, so that an older binary
// refuses the blob by its version instead of failing on its length or misreading it.
// Version 2 is version 1 with the held month's flag byte a bit set (1 ClockPayable,
// 2 Counted) and the AfterDeath records, their count first, always ending the blob.
//
// A month of back pay counted dropped (Held.Dropped, Due.Dropped) makes it 3 when the
// blob cannot say it otherwise: a month held TERMINATED and Counted is always one dropped
// (the engine holds no other such month), so versions 1 and 2 read it as Dropped and such
// a month alone keeps the blob's version and bytes. Version 3 is version 2 with the held
// month's flag bit 4 set for Dropped, whatever its reason, and a flag byte after each due
// month (1 Dropped).
//
// The months a death kept unpaid (Rare.DeathUnpaid, kept only with the policy's
// back_pay_voided_death on) make it 4: version 3 followed by those months (their ranges'
// count, then each range's first month and its length less one).
// A version this binary does not know is a state written by a newer silentcert.

const (
	stateCodecV1  = 1
	stateCodecV2  = 2 // Held.Counted and Rare.AfterDeath (see above)
	stateCodecV3  = 3 // Held.Dropped and Due.Dropped beyond what versions 1 and 2 imply
	stateCodecV4  = 4 // Rare.DeathUnpaid
	stateCodecMax = stateCodecV4
)

// appendDate writes a date as a zigzag varint (NoDate is the smallest int32).
func appendDate(b []byte, d sc.Date) []byte { return binary.AppendVarint(b, int64(d)) }

// appendRef writes a reference plus one, so that NoRef (all ones) is 0.
func appendRef(b []byte, r engine.Ref) []byte { return binary.AppendUvarint(b, uint64(r+1)) }

func appendMonths(b []byte, ms engine.Months) []byte {
	b = binary.AppendUvarint(b, uint64(len(ms)))
	for _, r := range ms {
		b = binary.AppendVarint(b, int64(r.From))
		b = binary.AppendVarint(b, int64(r.To-r.From))
	}
	return b
}

// encodeState serialises a state for the store; the same state always gives the same bytes.
func encodeState(st *engine.State) ([]byte, error) {
	b := make([]byte, 0, 64+len(st.Weak)*12+len(st.Ents)*16)
	version := byte(stateCodecV1)
	switch {
	case st.Rare != nil && len(st.Rare.DeathUnpaid) > 0:
		version = stateCodecV4
	case needsV3(st.Rare):
		version = stateCodecV3
	case needsV2(st.Rare):
		version = stateCodecV2
	}
	b = append(b, version, byte(st.Status), st.Period, byte(st.LastMethod), byte(st.RowStatus))
	for _, d := range []sc.Date{st.Until, st.LastCertified, st.DeathDate, st.LastStrong, st.RowDay} {
		b = appendDate(b, d)
	}
	for _, r := range []engine.Ref{st.LastEvidence, st.DeathRef, st.LastStrongRef} {
		b = appendRef(b, r)
	}
	b = binary.AppendUvarint(b, uint64(len(st.Weak)))
	for _, t := range st.Weak {
		b = appendDate(b, t.Day)
		b = binary.AppendUvarint(b, uint64(t.Type))
		b = appendRef(b, t.Ref)
	}
	b = binary.AppendUvarint(b, uint64(len(st.Ents)))
	for _, e := range st.Ents {
		b = appendMonths(b, e.Regular)
		b = appendMonths(b, e.Back)
	}
	// An evidence model's memory (nil without a model) follows as JSON: it belongs to the
	// model, whose fields change with it.
	if st.Evidence == nil {
		b = append(b, 0)
	} else {
		js, err := json.Marshal(st.Evidence)
		if err != nil {
			return nil, err
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(js)))
		b = append(b, js...)
	}
	if st.Rare == nil {
		return append(b, 0), nil
	}
	r := st.Rare
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(r.Deaths)))
	for _, d := range r.Deaths {
		b = appendDate(b, d.Date)
		b = appendRef(b, d.Ref)
	}
	b = appendLosses(b, r.Losses)
	if c := r.Conflict; c != nil {
		// 1: a conflict; 2: one with LOSS or RESTORE records waiting for its review
		// (states written before these were kept have only 1).
		b = append(b, 1+b2u(len(c.Losses) > 0))
		b = appendRef(b, c.Cause)
		b = appendRef(b, c.Other)
		b = appendRef(b, c.Strong)
		b = appendDate(b, c.StrongDate)
		b = append(b, byte(c.StrongMethod))
		if len(c.Losses) > 0 {
			b = appendLosses(b, c.Losses)
		}
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Held)))
	for _, h := range r.Held {
		b = binary.AppendVarint(b, int64(h.Month))
		f := b2u(h.ClockPayable) | b2u(h.Counted)<<1
		if version >= stateCodecV3 {
			f |= b2u(h.Dropped) << 2
		}
		b = append(b, h.Ent, byte(h.Reason), f)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Due)))
	for _, d := range r.Due {
		b = binary.AppendVarint(b, int64(d.Month))
		b = append(b, d.Ent)
		if version >= stateCodecV3 {
			b = append(b, b2u(d.Dropped))
		}
	}
	// The LOSS and RESTORE records waiting while the person is terminated end a version 2
	// or 3 blob: states of version 1 (all those written before they were kept) are the
	// same bytes as before.
	if version >= stateCodecV2 {
		b = appendLosses(b, r.AfterDeath)
	}
	if version >= stateCodecV4 {
		b = appendMonths(b, r.DeathUnpaid)
	}
	return b, nil
}

// needsV2 reports whether a state's rare part holds what only version 2 keeps.
func needsV2(r *engine.Rare) bool {
	if r == nil {
		return false
	}
	if len(r.AfterDeath) > 0 {
		return true
	}
	for _, h := range r.Held {
		if h.Counted {
			return true
		}
	}
	return false
}

// needsV3 reports whether a state's rare part holds a month counted dropped that versions
// 1 and 2 cannot say (droppedOf), or a held month TERMINATED and Counted that is not.
func needsV3(r *engine.Rare) bool {
	if r == nil {
		return false
	}
	for _, h := range r.Held {
		if h.Dropped != droppedOf(&h) {
			return true
		}
	}
	for _, d := range r.Due {
		if d.Dropped {
			return true
		}
	}
	return false
}

// droppedOf is what versions 1 and 2 read as a held month's Dropped: a month held
// TERMINATED and counted is back pay that a death kept from being paid, counted dropped
// by the payroll that held it (engine.Held.Dropped).
func droppedOf(h *engine.Held) bool { return h.Reason == sc.StatusTerminated && h.Counted }

// appendLosses writes LOSS and RESTORE events: their count, then each one.
func appendLosses(b []byte, ls []engine.LossEvent) []byte {
	b = binary.AppendUvarint(b, uint64(len(ls)))
	for _, l := range ls {
		b = appendDate(b, l.Date)
		b = append(b, b2u(l.Restore))
		b = appendRef(b, l.Ref)
	}
	return b
}

func b2u(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// reader reads what encodeState wrote; the first error sticks.
type reader struct{ wire.Reader }

func (r *reader) date() sc.Date { return sc.Date(r.Varint()) }

// losses reads what appendLosses wrote (nil for none).
func (r *reader) losses() []engine.LossEvent {
	n := r.count()
	if n == 0 {
		return nil
	}
	ls := make([]engine.LossEvent, n)
	for i := range ls {
		ls[i] = engine.LossEvent{Date: r.date(), Restore: r.Byte() == 1, Ref: r.ref()}
	}
	return ls
}
func (r *reader) ref() engine.Ref { return engine.Ref(r.Uvarint() - 1) }
func (r *reader) count() int {
	n := r.Uvarint()
	if n > uint64(len(r.B)) { // every element takes at least a byte
		r.Err = wire.ErrShort
		return 0
	}
	return int(n)
}

func (r *reader) months() engine.Months {
	n := r.count()
	if n == 0 {
		return nil
	}
	ms := make(engine.Months, n)
	for i := range ms {
		from := sc.Month(r.Varint())
		ms[i] = engine.MonthRange{From: from, To: from + sc.Month(r.Varint())}
	}
	return ms
}

// decodeState reads a state blob.
func decodeState(b []byte, st *engine.State) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, st)
	}
	r := &reader{wire.Reader{B: b}}
	v := r.Byte()
	switch {
	case r.Err == nil && v > stateCodecMax:
		return fmt.Errorf("state blob version %d: written by a newer silentcert (this binary reads versions %d to %d)", v, stateCodecV1, stateCodecMax)
	case r.Err == nil && v < stateCodecV1:
		return fmt.Errorf("state blob version %d: not a state blob", v)
	}
	*st = engine.State{}
	st.Status, st.Period, st.LastMethod, st.RowStatus = sc.Status(r.Byte()), r.Byte(), sc.Method(r.Byte()), sc.Status(r.Byte())
	st.Until, st.LastCertified, st.DeathDate, st.LastStrong, st.RowDay = r.date(), r.date(), r.date(), r.date(), r.date()
	st.LastEvidence, st.DeathRef, st.LastStrongRef = r.ref(), r.ref(), r.ref()
	if n := r.count(); n > 0 {
		st.Weak = make([]engine.Trace, n)
		for i := range st.Weak {
			st.Weak[i] = engine.Trace{Day: r.date(), Type: sc.TypeID(r.Uvarint()), Ref: r.ref()}
		}
	}
	if n := r.count(); n > 0 {
		st.Ents = make([]engine.EntState, n)
	}
	for i := range st.Ents {
		st.Ents[i].Regular = r.months()
		st.Ents[i].Back = r.months()
	}
	if r.Byte() == 1 {
		n := r.count()
		if r.Err == nil {
			st.Evidence = &engine.Evidence{}
			if err := json.Unmarshal(r.B[:n], st.Evidence); err != nil {
				return fmt.Errorf("state blob: evidence: %w", err)
			}
			r.B = r.B[n:]
		}
	}
	if r.Byte() == 1 {
		rr := &engine.Rare{}
		if n := r.count(); n > 0 {
			rr.Deaths = make([]engine.DeathRecord, n)
			for i := range rr.Deaths {
				rr.Deaths[i] = engine.DeathRecord{Date: r.date(), Ref: r.ref()}
			}
		}
		rr.Losses = r.losses()
		if flag := r.Byte(); flag == 1 || flag == 2 {
			rr.Conflict = &engine.Conflict{Cause: r.ref(), Other: r.ref(), Strong: r.ref(), StrongDate: r.date(), StrongMethod: sc.Method(r.Byte())}
			if flag == 2 {
				rr.Conflict.Losses = r.losses()
			}
		}
		if n := r.count(); n > 0 {
			rr.Held = make([]engine.Held, n)
			for i := range rr.Held {
				rr.Held[i] = engine.Held{Month: sc.Month(r.Varint()), Ent: r.Byte(), Reason: sc.Status(r.Byte())}
				h := &rr.Held[i]
				switch f := r.Byte(); {
				case v == stateCodecV1:
					h.ClockPayable = f == 1
				case f <= 3:
					h.ClockPayable, h.Counted = f&1 != 0, f&2 != 0
				case v >= stateCodecV3 && f <= 7:
					h.ClockPayable, h.Counted, h.Dropped = f&1 != 0, f&2 != 0, true
				case r.Err == nil:
					r.Err = fmt.Errorf("state blob: held month flags %d", f)
				}
				if v < stateCodecV3 {
					h.Dropped = droppedOf(h)
				}
			}
		}
		if n := r.count(); n > 0 {
			rr.Due = make([]engine.Due, n)
			for i := range rr.Due {
				rr.Due[i] = engine.Due{Month: sc.Month(r.Varint()), Ent: r.Byte()}
				if v >= stateCodecV3 {
					switch f := r.Byte(); {
					case f <= 1:
						rr.Due[i].Dropped = f == 1
					case r.Err == nil:
						r.Err = fmt.Errorf("state blob: due month flags %d", f)
					}
				}
			}
		}
		// Versions 2 and 3 end with them; a version 1 blob may too (binaries from
		// 5f772ac to the change that added version 2 wrote them with version 1).
		if r.Err == nil && (v >= stateCodecV2 || len(r.B) > 0) {
			rr.AfterDeath = r.losses()
		}
		if r.Err == nil && v >= stateCodecV4 {
			rr.DeathUnpaid = r.months()
		}
		st.Rare = rr
	}
	if r.Err == nil && ((v == stateCodecV2 && !needsV2(st.Rare)) || (v == stateCodecV3 && !needsV3(st.Rare)) ||
		(v == stateCodecV4 && (st.Rare == nil || len(st.Rare.DeathUnpaid) == 0))) {
		r.Err = fmt.Errorf("state blob version %d without the records it is for", v)
	}
	if r.Err == nil && len(r.B) != 0 {
		r.Err = fmt.Errorf("state blob has %d bytes too many", len(r.B))
	}
	return r.Err
}
