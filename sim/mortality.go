package sim

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/silentcert/silentcert"
)

//go:embed data/wpp2024_china_mx_5yr.csv
var wppCSV []byte

// WPP's abridged age groups: 0, 1–4, 5–9, …, 95–99, 100+.
const (
	wppGroups      = 22
	wppFirstPeriod = 2010
	wppPeriods     = 18 // 2010-2015 … 2095-2100
)

// lifeTable holds the WPP 2024 central death rates for China by sex, age group and period.
type lifeTable struct {
	mx [2][wppGroups][wppPeriods]float64 // [sex-1][group][period]
}

func ageGroup(age int) int {
	switch {
	case age <= 0:
		return 0
	case age < 5:
		return 1
	}
	g := age/5 + 1
	if g >= wppGroups {
		g = wppGroups - 1
	}
	return g
}

// periodIndex returns the WPP period holding d: a period runs from 1 July of its first
// year to 30 June of its last.
func periodIndex(d silentcert.Date) int {
	y, m, _ := d.Civil()
	if m < 7 {
		y--
	}
	i := (y - wppFirstPeriod) / 5
	if y < wppFirstPeriod {
		i = 0
	}
	if i >= wppPeriods {
		i = wppPeriods - 1
	}
	return i
}

func loadLifeTable() (*lifeTable, error) {
	r := csv.NewReader(bytes.NewReader(wppCSV))
	head, err := r.Read()
	if err != nil || len(head) != 6 || head[0] != "sex" || head[5] != "mx" {
		return nil, fmt.Errorf("wpp table: unexpected header %v", head)
	}
	t := &lifeTable{}
	seen := 0
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("wpp table line %d: %v", line, err)
		}
		sex := 0
		switch rec[0] {
		case "male":
			sex = 1
		case "female":
			sex = 2
		default:
			continue
		}
		age := 100
		if rec[1] != "100+" {
			if age, err = strconv.Atoi(rec[1]); err != nil {
				return nil, fmt.Errorf("wpp table line %d: age group %q", line, rec[1])
			}
		}
		start, err1 := strconv.Atoi(rec[3])
		mx, err2 := strconv.ParseFloat(rec[5], 64)
		if err1 != nil || err2 != nil || mx < 0 {
			return nil, fmt.Errorf("wpp table line %d: bad period or mx", line)
		}
		p := (start - wppFirstPeriod) / 5
		if p < 0 || p >= wppPeriods || (start-wppFirstPeriod)%5 != 0 {
			continue
		}
		t.mx[sex-1][ageGroup(age)][p] = mx
		seen++
	}
	if seen != 2*wppGroups*wppPeriods {
		return nil, fmt.Errorf("wpp table: %d rates, want %d", seen, 2*wppGroups*wppPeriods)
	}
	return t, nil
}

// rate returns the WPP central death rate (per person-year) for sex at age on day d.
func (t *lifeTable) rate(sex, age int, d silentcert.Date) float64 {
	return t.mx[sex-1][ageGroup(age)][periodIndex(d)]
}

// ageOn returns the age in whole years on day d of someone born on birth.
func ageOn(birth, d silentcert.Date) int {
	by, bm, bd := birth.Civil()
	y, m, day := d.Civil()
	a := y - by
	if m < bm || (m == bm && day < bd) {
		a--
	}
	return a
}

// birthday returns the day someone born on birth turns age (29 February → 28 February).
func birthday(birth silentcert.Date, age int) silentcert.Date { return birth.AddMonths(12 * age) }

// lifeSegment is a stretch of days with one hazard, for tests that tally exposure.
type lifeSegment struct {
	start, end silentcert.Date // [start, end)
	age        int
	hazard     float64 // per day
}

// sampleDeath draws the day of death in [from, to] of a person of the given sex and birth
// date whose WPP rates are multiplied by mult and by the month's seasonal factor. The
// hazard is constant between month starts and birthdays, so the draw is exact for it. It
// returns NoDate for a survivor and, in any case, the cumulative hazard of the whole
// window (for the probability of dying in it). visit, if not nil, sees every segment the
// person lived through.
func (t *lifeTable) sampleDeath(g *rng, sex int, birth, from, to silentcert.Date, mult float64, season *[12]float64,
	visit func(lifeSegment)) (silentcert.Date, float64) {
	e := g.exp()
	death := silentcert.NoDate
	h := 0.0
	d := from
	age := ageOn(birth, d)
	next := birthday(birth, age+1)
	for d <= to {
		y, m, _ := d.Civil()
		end := silentcert.MakeDate(y, m, 1).AddMonths(1)
		if next < end {
			end = next
		}
		if end > to+1 {
			end = to + 1
		}
		rate := t.rate(sex, age, d) * mult * season[m-1] / 365.25
		days := float64(end - d)
		if death == silentcert.NoDate {
			if h+rate*days >= e {
				death = d + silentcert.Date((e-h)/rate)
				if death >= end {
					death = end - 1
				}
				if visit != nil {
					visit(lifeSegment{start: d, end: death + 1, age: age, hazard: rate})
				}
			} else if visit != nil {
				visit(lifeSegment{start: d, end: end, age: age, hazard: rate})
			}
		}
		h += rate * days
		d = end
		if d == next {
			age++
			next = birthday(birth, age+1)
		}
	}
	return death, h
}
