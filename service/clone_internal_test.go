package service

import (
	"reflect"
	"testing"

	"github.com/silentcert/silentcert/engine"
)

// TestCloneStateSharesNothing: cloneState, the copy a failed batch's undo restores, shares
// no slice or pointer with the state it copies, whatever fields engine.State grows (a
// crash review: the model's Evidence.Moves was shared, and a failed batch left it edited
// in memory, then written at the person's next change).
func TestCloneStateSharesNothing(t *testing.T) {
	var st engine.State
	fill(reflect.ValueOf(&st).Elem(), 0)
	c := cloneState(&st)
	shared(t, "State", reflect.ValueOf(st), reflect.ValueOf(c))
}

// fill gives every slice one element and every pointer a value, down to depth 6.
func fill(v reflect.Value, depth int) {
	if depth > 6 || !v.CanSet() {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), depth+1)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	}
}

// shared fails for every slice or pointer of a that b holds too.
func shared(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				shared(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
			}
		}
	case reflect.Pointer:
		if !a.IsNil() {
			if a.Pointer() == b.Pointer() {
				t.Errorf("%s: the clone shares the pointer", path)
				return
			}
			shared(t, path, a.Elem(), b.Elem())
		}
	case reflect.Slice:
		if a.Len() > 0 {
			if a.Pointer() == b.Pointer() {
				t.Errorf("%s: the clone shares the slice", path)
				return
			}
			for i := range a.Len() {
				shared(t, path+"[]", a.Index(i), b.Index(i))
			}
		}
	}
}

// TestCaseStateSharesNothing: the state a commit publishes for the recovery reads shares
// no slice or pointer with the person's, which the next batch changes in place while the
// console reads the publication; it leaves out the weak traces and the model's memory.
func TestCaseStateSharesNothing(t *testing.T) {
	var st engine.State
	fill(reflect.ValueOf(&st).Elem(), 0)
	c := caseState(&st)
	if c.Weak != nil || c.Evidence != nil {
		t.Errorf("the published state keeps the weak traces or the model's memory: %v %v", c.Weak, c.Evidence)
	}
	other := cloneState(&st)
	c.Weak, c.Evidence = other.Weak, other.Evidence
	shared(t, "State", reflect.ValueOf(st), reflect.ValueOf(c))
}
