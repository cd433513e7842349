package store

import (
	"math/rand/v2"
	"slices"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// SortKeys and sortPeople deal large slices into buckets first: the order must be the one
// a plain sort gives, whatever the size.
func TestSortKeysAndPeople(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{0, 1, 5, 1 << 12, 1<<12 + 7, 100000} {
		keys := make([]Key, n)
		people := make([]personRow, n)
		for i := range keys {
			keys[i] = Key{K1: int64(rng.Uint64()), K2: int64(rng.Uint64()), I: int32(i)}
			if i > 0 && rng.IntN(10) == 0 {
				keys[i].K1 = keys[rng.IntN(i)].K1 // equal first halves
			}
			people[i] = personRow{pid: int64(rng.IntN(n/3 + 1)), event: sc.Date(rng.IntN(60)), id: int64(i)}
		}
		rng.Shuffle(n, func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		want := slices.Clone(keys)
		slices.SortFunc(want, cmpKey)
		SortKeys(keys)
		if !slices.Equal(keys, want) {
			t.Fatalf("n=%d: SortKeys differs from a sort", n)
		}
		wantP := slices.Clone(people)
		slices.SortFunc(wantP, cmpPersonRow)
		if got := sortPeople(people); !slices.Equal(got, wantP) {
			t.Fatalf("n=%d: sortPeople differs from a sort", n)
		}
	}
}

// TestShownDSN: no password reaches a message or a log line, in the user part or as a
// parameter (it was printed at serve's start and in every error naming the database).
func TestShownDSN(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://u:s3cret@h:5432/db?sslmode=disable":                   "postgres://h:5432/db?sslmode=disable",
		"postgres://h:5432/db?password=s3cret&sslmode=disable":            "postgres://h:5432/db?sslmode=disable",
		"postgresql:///db?host=/run&user=u&password=s3cret&sslpassword=k": "postgresql:///db?host=%2Frun&user=u",
	} {
		if got := shownDSN(dsn); got != want {
			t.Errorf("%s shown as %s, want %s", dsn, got, want)
		}
	}
}
