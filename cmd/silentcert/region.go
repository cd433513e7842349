package main

import (
	"sync"

	"github.com/silentcert/silentcert/divisions"
)

// regionResolver returns the roster's address resolver over the NBS 2023 divisions
// embedded in the binary, narrowed to city (a 4- or 6-digit code) when given. The index is
// built on the first address that needs it, so a roster whose rows all carry region_code
// costs nothing. Only a single village resolved with divisions.DefaultMinConfidence is
// used; anything else leaves the person unassigned.
func regionResolver(city string) func(string) (string, bool) {
	var once sync.Once
	var resolve func(string) (string, bool)
	return func(address string) (string, bool) {
		once.Do(func() {
			t, err := divisions.Embedded()
			if err != nil {
				resolve = func(string) (string, bool) { return "", false }
				return
			}
			resolve = divisions.NewResolver(t, divisions.Options{City: city}).RegionFunc(divisions.DefaultMinConfidence)
		})
		return resolve(address)
	}
}
