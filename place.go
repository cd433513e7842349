package silentcert

// Place is where a record was made, as a number: the county of its region_code (the first
// six digits of the statistical division code), or the city's four digits followed by 00
// when the code names only a city (or a county part of 00); 0 when the code is absent or
// not digits. It is compact enough to keep beside every record.
type Place uint32

// PlaceOf returns the Place of a region_code (12 digits or a prefix of them).
func PlaceOf(region string) Place {
	if len(region) < 4 {
		return 0
	}
	n := min(len(region), 6)
	if n == 5 {
		n = 4
	}
	var v Place
	for i := range n {
		c := region[i]
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + Place(c-'0')
	}
	if n == 4 {
		v *= 100
	}
	return v
}

// City reports whether p names only a city.
func (p Place) City() bool { return p%100 == 0 }

// Near reports whether two known places may be the same: the same county, or the same
// city when either of them names only a city. An unknown place is near every place.
func (p Place) Near(q Place) bool {
	switch {
	case p == 0 || q == 0 || p == q:
		return true
	case p.City() || q.City():
		return p/100 == q/100
	}
	return false
}
