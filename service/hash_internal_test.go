package service

import (
	"hash/fnv"
	"io"
	"math/rand/v2"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// contentHash is stored: it must stay FNV-1a of the fields as hash/fnv computes it, or
// resends after an upgrade would count as conflicting duplicates.
func TestContentHashIsFNV(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	for range 2000 {
		r := &sc.Record{PersonID: pick("", "370102194501011234", "37010219450101123X"), Name: pick("", "张三", "李四光"),
			BirthDate: sc.Date(rng.IntN(40000) - 20000), EventDate: sc.Date(rng.IntN(30000)), RegionCode: pick("", "371002001001"),
			RawDetail: pick("", "amount=1.50", "critical=1")}
		if rng.IntN(5) == 0 {
			r.BirthDate = sc.NoDate
		}
		code := pick("TRN.TRANSIT", "HEA.INPATIENT")
		h := fnv.New64a()
		for _, s := range []string{r.PersonID, r.Name, r.BirthDate.String(), r.EventDate.String(), r.RegionCode, r.RawDetail, code} {
			io.WriteString(h, s)
			h.Write([]byte{0})
		}
		if got, want := contentHash(new(rowOf(r, nil, 0)), code), h.Sum64(); got != want {
			t.Fatalf("%+v: %x, want %x", r, got, want)
		}
	}
}
