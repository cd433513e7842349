package sim

import (
	"math"
	"strconv"

	"github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
)

// base is what identifies a person: sex, birth, home village, ID number and name, and
// the main pension (which fixes the age they started drawing). It is a pure function of
// (seed, index) and the table of ID numbers bumped to avoid collisions, so any worker can
// rebuild any person (a death record naming the wrong person needs someone else's ID).
type base struct {
	sex     int
	birth   silentcert.Date
	vil     int32
	urban   bool
	pension string // main pension code, "" for allowances only
	start   silentcert.Month
	id      [18]byte
	name    string
}

// The ID number's 3-digit sequence: odd for men, even for women.
func seqFor(raw, sex int) int {
	s := (raw % 500) * 2
	if sex == 1 {
		s++
	}
	return s
}

func makeID(area string, birth silentcert.Date, seq int) [18]byte {
	var id [18]byte
	copy(id[:6], area)
	b := birth.AppendTo(make([]byte, 0, 10))
	copy(id[6:10], b[0:4])
	copy(id[10:12], b[5:7])
	copy(id[12:14], b[8:10])
	id[14] = byte('0' + seq/100)
	id[15] = byte('0' + seq/10%10)
	id[16] = byte('0' + seq%10)
	id[17] = idcard.CheckChar(id[:17])
	return id
}

// drawBase draws person idx's identity; the ID sequence moves on by the bump assignIDs
// recorded when the number was already given to someone earlier.
func (gen *generator) drawBase(g *rng, idx int, b *base) {
	pop := &gen.rates.Population
	g.seed(gen.seed, streamBase, idx)
	*b = base{}
	b.urban = g.chance(pop.UrbanShare)
	b.vil = gen.city.pickVillage(g, b.urban)
	b.urban = gen.city.villages[b.vil].urban
	area := gen.city.villages[b.vil].code[:6]
	if g.chance(pop.BornElsewhere) {
		area = gen.city.elsewhere[g.intn(len(gen.city.elsewhere))]
	}
	years := float64(gen.to-gen.from+1) / 365.25
	if g.chance(pop.NewEnrolment * years) {
		// Someone who reaches pension age inside the window and starts drawing the month
		// after their birthday.
		b.sex = 1
		if g.chance(0.5) {
			b.sex = 2
		}
		b.pension = gen.drawPension(g, b.urban, b.sex, 200)
		age := gen.pensionAge(b.pension, b.sex)
		months := int(gen.to.Month()-gen.from.Month()) + 1
		b.start = gen.from.Month() + silentcert.Month(g.intn(months))
		born := b.start - 1 - silentcert.Month(12*age)
		y, m := born.Civil()
		b.birth = silentcert.MakeDate(y, m, 1+g.intn(silentcert.DaysIn(y, m)))
	} else {
		band := pop.AgeBands[g.pick(gen.bandCum)]
		b.sex = 1
		if g.chance(band.Female) {
			b.sex = 2
		}
		age := g.between(band.From, band.To)
		b.birth = gen.from.AddMonths(-12*age) - silentcert.Date(1+g.intn(365))
		b.pension = gen.drawPension(g, b.urban, b.sex, ageOn(b.birth, gen.from))
		if b.pension != "" {
			b.start = b.birth.AddMonths(12*gen.pensionAge(b.pension, b.sex)).Month() + 1
			if b.start >= gen.from.Month() {
				b.start = gen.from.Month() - 1
			}
		}
	}
	seq := seqFor(g.intn(500), b.sex)
	if bump, ok := gen.idBump[int32(idx)]; ok {
		seq = (seq + 2*int(bump)) % 1000
	}
	b.id = makeID(area, b.birth, seq)
	by, _, _ := b.birth.Civil()
	b.name = gen.names.draw(g, b.sex, by, pop.SingleCharName, pop.MinorityNames)
}

// pensionAge is the age at which a pension starts.
func (gen *generator) pensionAge(code string, sex int) int {
	ben := &gen.rates.Population.Benefits
	switch {
	case code == "RES_PENSION":
		return ben.ResidentAge
	case sex == 1:
		return ben.RetireAgeMale
	case code == "GOV_PENSION":
		return ben.RetireAgeFemale + 5
	}
	return ben.RetireAgeFemale
}

// drawPension picks the main pension of someone of this age, or "" when they are too
// young for any.
func (gen *generator) drawPension(g *rng, urban bool, sex, age int) string {
	ps := gen.rates.Population.Benefits.Pensions
	x := g.float()
	code := "RES_PENSION"
	if e := ps["EMP_PENSION"].Share.of(urban); x < e {
		code = "EMP_PENSION"
	} else if x < e+ps["GOV_PENSION"].Share.of(urban) {
		code = "GOV_PENSION"
	}
	if age >= gen.pensionAge(code, sex) {
		return code
	}
	// Too young for the pension drawn: women between the workers' retirement age and 60
	// draw an employee's pension; anyone younger draws allowances only.
	if age >= gen.pensionAge("EMP_PENSION", sex) {
		return "EMP_PENSION"
	}
	return ""
}

// Profile flags.
type flags uint16

const (
	flUrban flags = 1 << iota
	flFrail
	flChronic
	flTraveller
	flNursing
	flFew
	flAge80
	flPhone
)

var flagNames = []string{"urban", "frail", "chronic", "traveller", "nursing_home", "few_traces", "age80", "phone"}

func flagOf(name string) flags {
	if name == "rural" {
		return 0
	}
	for i, n := range flagNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// profileString lists the behaviour flags for truth.csv.
func (f flags) profileString(dst []byte) []byte {
	n := 0
	for i, name := range flagNames {
		if i == 0 || name == "age80" || name == "phone" {
			continue
		}
		if f&(1<<i) != 0 {
			if n > 0 {
				dst = append(dst, ';')
			}
			dst = append(dst, name...)
			n++
		}
	}
	return dst
}

// entitlement is one roster row.
type entitlement struct {
	code     string
	monthly  silentcert.Fen
	start    silentcert.Month
	end      silentcert.Month
	capacity silentcert.Fen // -1 when the row gives none
}

// drawEntitlements fills p.ents, the capacity and last_certified.
func (gen *generator) drawEntitlements(g *rng, p *person) {
	ben := &gen.rates.Population.Benefits
	age := ageOn(p.birth, gen.from)
	p.ents = p.ents[:0]
	capKnown := g.chance(ben.CapacityKnown)
	yuan := func(v float64) silentcert.Fen { return silentcert.Fen(math.Round(v * 100)) }
	capOf := func(monthly silentcert.Fen, months float64) silentcert.Fen {
		if !capKnown || months <= 0 {
			return -1
		}
		c := float64(monthly) * months * g.lognormal(1, 0.35)
		return silentcert.Fen(math.Round(c/100) * 100) // whole yuan
	}
	if p.pension != "" {
		pe := ben.Pensions[p.pension]
		amt := g.lognormal(pe.Median, pe.Sigma)
		if amt < pe.Min {
			amt = pe.Min + g.float()*pe.Min*0.1
		}
		m := yuan(amt)
		p.ents = append(p.ents, entitlement{code: p.pension, monthly: m, start: p.start, end: silentcert.NoMonth, capacity: capOf(m, pe.CapacityMonths)})
	}
	months := int(gen.to.Month()-gen.from.Month()) + 1
	for _, code := range gen.extraCodes {
		e := ben.Extras[code]
		if p.pension == "" && !e.Alone {
			continue
		}
		if e.MaxAge > 0 && age > e.MaxAge {
			continue
		}
		minAge := e.MinAge
		if len(e.Tiers) > 0 && e.Tiers[0].Age > minAge {
			minAge = e.Tiers[0].Age
		}
		// Someone who reaches the minimum age inside the window starts then.
		reach := p.birth.AddMonths(12 * minAge)
		if reach > gen.to || !g.chance(e.Share.of(p.urban)) {
			continue
		}
		var start silentcert.Month
		if reach >= gen.from {
			start = reach.Month() + 1
			if start > gen.to.Month() {
				continue
			}
		} else {
			// Started some time after they became eligible, at most 15 years ago.
			lo := reach.Month() + 1
			if earliest := gen.from.Month() - 180; lo < earliest {
				lo = earliest
			}
			// reach can fall in from's own month, before from: lo is then after it.
			start = lo + silentcert.Month(g.intn(max(int(gen.from.Month()-lo)+1, 1)))
			if start >= gen.from.Month() {
				start = gen.from.Month() - 1
			}
		}
		var amt float64
		if len(e.Tiers) > 0 {
			for _, t := range e.Tiers {
				if age >= t.Age {
					amt = t.Amount
				}
			}
			if amt == 0 {
				amt = e.Tiers[0].Amount
			}
		} else {
			amt = e.Amount[0] + g.float()*(e.Amount[1]-e.Amount[0])
			amt = math.Round(amt)
		}
		end := silentcert.NoMonth
		if g.chance(e.EndShare) {
			end = gen.from.Month() + silentcert.Month(g.intn(months))
			if end < start {
				end = start
			}
		}
		m := yuan(amt)
		p.ents = append(p.ents, entitlement{code: code, monthly: m, start: start, end: end, capacity: capOf(m, e.CapacityMonths)})
	}
	if len(p.ents) == 0 {
		// An allowance-only person who drew none of them: give the commonest.
		m := yuan(math.Round(ben.Extras["DISABILITY_ALLOWANCE"].Amount[0]))
		start := gen.from.Month() - silentcert.Month(1+g.intn(60))
		p.ents = append(p.ents, entitlement{code: "DISABILITY_ALLOWANCE", monthly: m, start: start, end: silentcert.NoMonth, capacity: -1})
	}
	if capKnown {
		// A person whose pension row gives a capacity but whose allowance rows do not
		// still has a known capacity; one with only capacity-less rows gets the funeral
		// grant (丧葬补助金) on their first row.
		known := false
		for _, e := range p.ents {
			known = known || e.capacity >= 0
		}
		if !known {
			p.ents[0].capacity = yuan(float64(2000 + 500*g.intn(7)))
		}
	}
	var total, capacity silentcert.Fen
	known := false
	first := silentcert.NoMonth
	for _, e := range p.ents {
		total += e.monthly
		if e.capacity >= 0 {
			capacity += e.capacity
			known = true
		}
		if first == silentcert.NoMonth || e.start < first {
			first = e.start
		}
	}
	p.monthlyTotal, p.capacity, p.capacityKnown, p.firstMonth = total, capacity, known, first
	pol := &gen.rates.Certification.Policy
	p.period = pol.ServicePeriod(capacity, known, total)
	// Migration: someone drawing for more than a year was certified in the old system
	// some time in the year before the window.
	p.lastCert = silentcert.NoDate
	if first.First().AddMonths(12) <= gen.from && g.chance(gen.rates.Population.LastCertified) {
		p.lastCert = gen.from - silentcert.Date(1+g.intn(365))
	}
	if p.lastCert != silentcert.NoDate {
		p.until0 = p.lastCert.AddMonths(p.period)
	} else {
		p.until0 = first.First().AddMonths(p.period)
	}
	// Phones.
	p.phone, p.agentPhone = "", ""
	if g.chance(gen.rates.Population.Phone.at(float64(age))) {
		p.flags |= flPhone
		p.phone = mobile(g)
	}
	if g.chance(gen.rates.Population.AgentPhone) {
		p.agentPhone = mobile(g)
	}
}

var mobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157", "158", "159", "170", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199"}

func mobile(g *rng) string {
	b := make([]byte, 0, 11)
	b = append(b, mobilePrefixes[g.intn(len(mobilePrefixes))]...)
	n := g.intn(100000000)
	s := strconv.Itoa(n)
	for i := len(s); i < 8; i++ {
		b = append(b, '0')
	}
	return string(append(b, s...))
}
