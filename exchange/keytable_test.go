package exchange

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKeyTable checks the table against a map, through growth from its smallest size,
// with keys that share their high digits as a city's ID numbers do.
func TestKeyTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var kt keyTable
	kt.init(0)
	want := map[uint64]int32{}
	for i := range 20000 {
		key := 37100219_00000000_0 + rng.Uint64N(1e9)*11 + uint64(i%3)
		if _, ok := want[key]; ok {
			continue
		}
		want[key] = int32(i)
		kt.put(key, int32(i))
	}
	for k, v := range want {
		if got, ok := kt.get(k); !ok || got != v {
			t.Fatalf("get(%d) = %d, %v; want %d", k, got, ok, v)
		}
		if _, ok := kt.get(k + 1); ok != (want[k+1] != 0 || hasKey(want, k+1)) {
			t.Fatalf("get(%d) found a key never put", k+1)
		}
	}
}

func hasKey(m map[uint64]int32, k uint64) bool { _, ok := m[k]; return ok }

// TestSortByKey checks the radix sort against slices.Sort, on small and large inputs, keys
// with common bytes and keys spread over all 64 bits.
func TestSortByKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 255, 256, 5000} {
		for _, spread := range []bool{false, true} {
			a := make([]keyIndex, n)
			for i := range a {
				k := 371002_1950_0101_000_0 + rng.Uint64N(1e7)
				if spread {
					k = rng.Uint64()
				}
				a[i] = keyIndex{key: k, i: int32(i)}
			}
			want := slices.Clone(a)
			slices.SortStableFunc(want, func(x, y keyIndex) int {
				if x.key < y.key {
					return -1
				}
				if x.key > y.key {
					return 1
				}
				return 0
			})
			sortByKey(a)
			if !slices.Equal(a, want) {
				t.Fatalf("n=%d spread=%v: not sorted as slices.SortStableFunc sorts", n, spread)
			}
		}
	}
}
