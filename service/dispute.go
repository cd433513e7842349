package service

import (
	"fmt"
	"strings"

	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/store"
)

// Dispute is a person's open dispute (CONFLICT) as their stored state has it: what a
// review must name to settle it.
type Dispute struct{ st engine.State }

// DisputeOf returns p's open dispute as p's stored state has it (read in a transaction,
// what that transaction sees), or nil when none is open.
func DisputeOf(p *store.Person) (*Dispute, error) {
	d := &Dispute{}
	if err := decodeState(p.State, &d.st); err != nil {
		return nil, fmt.Errorf("person %d (%s): state: %w", p.PID, idcard.Mask(p.Rec.PersonID), err)
	}
	if d.st.Rare == nil || d.st.Rare.Conflict == nil {
		return nil, nil
	}
	return d, nil
}

// Names reports whether a review naming the stored record id settles the dispute
// (engine.State.DisputeNames): the engine ignores a review naming any other.
func (d *Dispute) Names(id int64) bool { return d.st.DisputeNames(engine.Ref(id)) }

// NamesKey is Names for a review's ref, the record's key SOURCE:record_id, looked up in
// tx as ingestion looks it up: a key naming no stored record names nothing.
func (d *Dispute) NamesKey(tx *store.Tx, key string) (bool, error) {
	ref, err := refByKey(tx, key)
	return err == nil && d.st.DisputeNames(ref), err
}

// refByKey returns the record a review's ref SOURCE:record_id names, NoRef when it names
// no stored record.
func refByKey(tx *store.Tx, key string) (engine.Ref, error) {
	j := strings.IndexByte(key, ':')
	if j <= 0 {
		return engine.NoRef, nil
	}
	id, ok, err := tx.RecordIDByKey(key[:j], key[j+1:])
	if err != nil || !ok {
		return engine.NoRef, err
	}
	return engine.Ref(id), nil
}
