package sim

import (
	"compress/gzip"
	"math"
	"slices"

	"github.com/silentcert/silentcert"
)

type sd = silentcert.Date

// Death reporting modes.
const (
	deathNone   uint8 = iota // alive on --to
	deathTimely              // reported by the usual channels
	deathLate                // every channel months late
	deathNever               // no department reports it
)

var deathModeNames = []string{"", "timely", "late", "never"}

// person is everything the simulator knows about one recipient.
type person struct {
	idx int
	base
	flags         flags
	age0          int // age on --from
	ents          []entitlement
	monthlyTotal  silentcert.Fen
	capacity      silentcert.Fen
	capacityKnown bool
	firstMonth    silentcert.Month
	period        int
	lastCert      sd
	until0        sd
	phone         string
	agentPhone    string

	death      sd // NoDate when alive on --to
	deathMode  uint8
	decline    sd // from this day a dying person stops going out
	fraud      bool
	fraudEnd   sd // last day relatives use the cards
	utilEnd    sd // last day household bills in their name are paid
	phoneEnd   sd
	transit    bool // the fraud includes the senior transit card
	falseDeath sd   // a department reported them dead on this day while they lived
	prisonIn   sd
	prisonOut  sd
	moveOn     sd
	moveTo     int32
	away       uint16 // bit m (1–12): a traveller is away that month
	// Where traces are made other than at home (villageOn), as rec.vil: a village of
	// the city, or placeElsewhere(k) for county k of city.elsewhere.
	awayPlace int32 // a traveller's while away
	nearPlace int32 // another county of the city, now and then
	relPlace  int32 // the relative holding the cards after a hidden death (-1: at home)

	// Filled while writing, for truth.csv.
	firstDeathReport sd
	deathRecords     int
	wrongPerson      bool
	postDeath        int
	records          int
	// cardUse: the first reported date of a card, bank or phone record made after the
	// death (a spoofable type other than household bills): the hidden deaths the issue's
	// recall is about are those "with ongoing card, bank or phone use".
	cardUse sd
}

func (p *person) has(f flags) bool { return p.flags&f != 0 }

// villageOn returns the village someone lives in on day d.
func (p *person) villageOn(d sd) int32 {
	if p.moveOn != silentcert.NoDate && d >= p.moveOn {
		return p.moveTo
	}
	return p.vil
}

// Record flags.
const (
	rfCritical uint16 = 1 << iota
	rfAgent
	rfAcceptDeath
	rfNoReported // reported_date left out
	rfDup        // written twice, identical
	rfDupChanged // resent later with changed content
	rfName       // carries the name
	rfBirth      // carries the birth date
	rfWrongDate  // a death record dated a few days after the death
	rfFalse      // a death record of a living person, or the review that voids it
	rfAlive      // a review's decision: accept=alive
)

// rec is one record before it is written.
type rec struct {
	typ    silentcert.TypeID
	src    uint8
	fl     uint16
	fault  uint8 // recFault*
	bad    uint8 // malformed kind, 0 when well-formed
	icd    uint8 // 1-based index into icdCodes
	count  uint16
	event  sd
	rep    sd
	seq    int32
	amount silentcert.Fen
	vil    int32 // village of the region code, -1 for none
	other  int32 // a wrong-person death record: the index of the person whose ID it carries
	refSrc uint8 // a review: the source and sequence of the record it names
	refSeq int32
}

// ID and name faults on a record.
const (
	faultNone uint8 = iota
	faultIDTypo
	faultID15
	faultIDMissing
	faultLowerX
	faultNameVariant
	faultNameMismatch
	faultWrongPerson
)

var faultNames = []string{"", "id_typo", "id_15_digit", "id_missing", "id_lower_x", "name_variant", "name_mismatch", "wrong_person_death"}

// Common ICD-10 codes of older people's admissions and chronic care; the first
// icdCritical are the ones that are usually critical.
var icdCodes = []string{"C34.9", "C16.9", "C22.0", "I50.9", "J44.1", "I61.9", "N18.5", "A41.9",
	"I63.9", "I25.1", "J18.9", "E11.9", "K80.2", "S72.0", "I10", "H25.9", "M17.9", "K29.7", "I48.9", "N40"}

const icdCritical = 8

// chronicICD are the conditions of 慢病 outpatient care.
var chronicICD = []uint8{9, 10, 12, 15, 19, 5}

// worker holds one goroutine's scratch space.
type worker struct {
	gen     *generator
	g       *rng   // life stream
	gr      *rng   // roster stream
	gd      *rng   // death stream
	gc      *rng   // certification stream
	gf      *rng   // fault stream
	gx      *rng   // scratch, for rebuilding other people
	gp      *rng   // place stream
	gn      *rng   // roster name stream
	tg      []*rng // one stream per record type
	adopted []bool
	rate    []float64
	recs    []rec
	seq     []int32 // next record sequence per source
	points  []certPoint
	weak    []certPoint
	days    []certPoint
	p       person
	other   base
	scratch []byte
	gz      *gzip.Writer
	capHint []int // bytes each sink took in the last block, to size the next
	out     *blockOut
}

func newWorker(gen *generator) *worker {
	w := &worker{gen: gen, g: newRNG(), gr: newRNG(), gd: newRNG(), gc: newRNG(), gf: newRNG(), gx: newRNG(), gp: newRNG(), gn: newRNG()}
	n := gen.cat.Len()
	w.tg = make([]*rng, n)
	for i := range w.tg {
		w.tg[i] = newRNG()
	}
	w.adopted = make([]bool, n)
	w.rate = make([]float64, n)
	w.seq = make([]int32, len(gen.sources))
	return w
}

// simulatePerson builds person idx and all their records into w.p and w.recs.
func (w *worker) simulatePerson(idx int) {
	gen := w.gen
	p := &w.p
	ents := p.ents[:0]
	*p = person{idx: idx, ents: ents, firstDeathReport: silentcert.NoDate, falseDeath: silentcert.NoDate, cardUse: silentcert.NoDate}
	gen.drawBase(w.g, idx, &p.base)
	w.recs = w.recs[:0]
	for i := range w.seq {
		w.seq[i] = 0
	}
	w.g.seed(gen.seed, streamLife, idx)
	w.gr.seed(gen.seed, streamRoster, idx)
	w.gd.seed(gen.seed, streamDeath, idx)
	w.gc.seed(gen.seed, streamCert, idx)
	w.gf.seed(gen.seed, streamFault, idx)
	w.life(p)
	gen.drawEntitlements(w.gr, p)
	w.deathFate(p)
	w.places(p)
	w.natural(p)
	w.deathRecords(p)
	w.falseDeath(p)
	w.lifeRecords(p)
	w.certification(p)
	slices.SortStableFunc(w.recs, func(a, b rec) int {
		// Each source's records of a person in date order, as departments list them.
		if a.src != b.src {
			return int(a.src) - int(b.src)
		}
		return int(a.event - b.event)
	})
}

// bayes returns the probability of a flag with prior share f and relative risk rr of
// dying in the window, for someone who died in it (died) or not, where pw is the
// probability of dying in the window at the base rates. Drawing death first and the flag
// second keeps the WPP rates exact while the flagged die rr times as often.
func bayes(f, rr, pw float64, died bool) float64 {
	if f <= 0 || pw <= 0 {
		return f
	}
	q0 := pw / (1 + f*(rr-1))
	q1 := rr * q0
	if q1 > 1 {
		q1 = 1
		q0 = (pw - f) / (1 - f)
		if q0 < 0 {
			q0 = 0
		}
	}
	if died {
		return f * q1 / pw
	}
	if pw >= 1 {
		return f
	}
	return f * (1 - q1) / (1 - pw)
}

// life draws profile, death, prison, move and travel.
func (w *worker) life(p *person) {
	gen := w.gen
	g := w.g
	r := gen.rates
	p.age0 = ageOn(p.birth, gen.from)
	if p.urban {
		p.flags |= flUrban
	}
	if p.age0 >= 80 {
		p.flags |= flAge80
	}
	var h float64
	p.death, h = gen.life.sampleDeath(g, p.sex, p.birth, gen.from, gen.to, r.Mortality.Multiplier, &r.Mortality.Season, nil)
	pw := 1 - math.Exp(-h)
	died := p.death != silentcert.NoDate
	age := float64(p.age0)
	if g.chance(bayes(r.Profiles.Frail.at(age), r.Profiles.FrailRisk, pw, died)) {
		p.flags |= flFrail
	}
	if g.chance(bayes(r.Profiles.Chronic.at(age), r.Profiles.ChronicRisk, pw, died)) {
		p.flags |= flChronic
	}
	if p.has(flFrail) && g.chance(r.Profiles.NursingHome.at(age)) {
		p.flags |= flNursing
	}
	if !p.has(flFrail) && g.chance(r.Profiles.Traveller.of(p.urban)) {
		p.flags |= flTraveller
		for _, m := range r.Profiles.AwayMonths {
			p.away |= 1 << m
		}
	}
	few := r.Profiles.FewTraces.at(age)
	if !p.urban {
		few *= r.Profiles.FewTracesRural
	}
	if !p.has(flNursing) && g.chance(few) {
		p.flags |= flFew
	}
	p.decline = silentcert.NoDate
	if died {
		d := 10 + g.intn(20)
		if p.has(flFrail) {
			d = 20 + g.intn(100)
		}
		p.decline = p.death - sd(d)
	}
	days := int(gen.to - gen.from + 1)
	years := float64(days) / 365.25
	p.prisonIn, p.prisonOut, p.moveOn = silentcert.NoDate, silentcert.NoDate, silentcert.NoDate
	if p.age0 < 80 && g.chance(r.Life.Prison*years) {
		in := gen.from + sd(30+g.intn(max(1, days-30)))
		if !died || in < p.death {
			p.prisonIn = in
			out := in.AddMonths(g.between(r.Life.PrisonMonths[0], r.Life.PrisonMonths[1]))
			if out <= gen.to && (!died || out < p.death) {
				p.prisonOut = out
			}
		}
	}
	if g.chance(r.Life.Move.of(p.urban) * years) {
		on := gen.from + sd(g.intn(days))
		if !died || on < p.death {
			p.moveOn = on
			urban := p.urban
			if g.chance(0.3) {
				urban = !urban
			}
			p.moveTo = gen.city.pickVillage(g, urban)
			if p.moveTo == p.vil {
				p.moveOn = silentcert.NoDate
			}
		}
	}
}

// deathFate decides how a death is reported and what the family does with the cards.
func (w *worker) deathFate(p *person) {
	gen := w.gen
	g := w.gd
	d := &gen.rates.Deaths
	p.fraudEnd, p.utilEnd, p.phoneEnd = silentcert.NoDate, silentcert.NoDate, silentcert.NoDate
	if p.death == silentcert.NoDate {
		return
	}
	fraud := d.Fraud.IfTimely
	switch x := g.float(); {
	case x < d.NeverReported.of(p.urban):
		p.deathMode, fraud = deathNever, d.Fraud.IfNeverReported
	case x < d.NeverReported.of(p.urban)+d.Late:
		p.deathMode, fraud = deathLate, d.Fraud.IfLate
	default:
		p.deathMode = deathTimely
	}
	if g.chance(fraud) {
		p.fraud = true
		p.fraudEnd = p.death.AddMonths(g.between(d.Fraud.Months[0], d.Fraud.Months[1]))
		p.transit = g.chance(d.Fraud.TransitCard)
	}
	if g.chance(d.Fraud.UtilityContinues) {
		p.utilEnd = gen.to
	}
	if g.chance(d.Fraud.PhoneContinues) {
		p.phoneEnd = p.death.AddMonths(1 + g.intn(2))
	}
}

// activeUntil returns the last day on which type t can leave a trace of p.
func (w *worker) activeUntil(p *person, t *typeInfo) sd {
	end := w.gen.to
	if p.death == silentcert.NoDate {
		return end
	}
	last := p.death - 1
	if !t.medical && p.decline != silentcert.NoDate && p.decline < last {
		last = p.decline
	}
	if t.spoofable && p.fraud && p.fraudEnd > last {
		last = p.fraudEnd
	}
	if t.code == "TRN.TRANSIT" && p.fraud && p.transit && p.fraudEnd > last {
		last = p.fraudEnd
	}
	if t.code == "UTIL.PAYMENT" && p.utilEnd > last {
		last = p.utilEnd
	}
	if t.code == "TEL.ACTIVITY" && p.phoneEnd > last {
		last = p.phoneEnd
	}
	if last > end {
		last = end
	}
	return last
}

// allowed reports whether p can leave a trace of type t on day d.
func (w *worker) allowed(p *person, t *typeInfo, d sd) bool {
	if t.stop != silentcert.NoDate && d > t.stop {
		return false
	}
	if p.prisonIn != silentcert.NoDate && d >= p.prisonIn && (p.prisonOut == silentcert.NoDate || d < p.prisonOut) {
		return t.code == "UTIL.PAYMENT"
	}
	if t.local && p.away != 0 {
		_, m, _ := d.Civil()
		if p.away&(1<<m) != 0 {
			return false
		}
	}
	if t.minAge > 0 && ageOn(p.birth, d) < t.minAge {
		return false
	}
	return true
}

// placeElsewhere encodes county k of city.elsewhere as a rec.vil.
func placeElsewhere(k int) int32 { return int32(-2 - k) }

// places decides, from its own stream, where a person's traces are made away from home.
func (w *worker) places(p *person) {
	gen := w.gen
	g := w.gp
	g.seed(gen.seed, streamPlace, p.idx)
	c := gen.city
	home := c.villages[p.vil].code[:6]
	// A village of another county of the city, when the city has another county.
	other := func() int32 {
		for range 16 {
			v := c.pickVillage(g, g.chance(0.5))
			if c.villages[v].code[:6] != home {
				return v
			}
		}
		return p.vil
	}
	elsewhere := func() int32 { return placeElsewhere(g.intn(len(c.elsewhere))) }
	p.nearPlace, p.awayPlace, p.relPlace = other(), elsewhere(), -1
	if p.fraud && g.chance(gen.rates.Deaths.Fraud.RelativeElsewhere.of(p.urban)) {
		p.relPlace = other()
		if g.chance(gen.rates.Deaths.Fraud.RelativeOtherCity) {
			p.relPlace = elsewhere()
		}
	}
}

// placeOf returns where a trace of type t made on day d is located (rec.vil): after a
// hidden death, where the relative using the cards lives (household bills stay with the
// home); a traveller's traces away from home while away; now and then another county of
// the city for the departments that locate by county or city; otherwise home. The
// occasional trace elsewhere is drawn from a hash of the person, type and day, so that
// no record stream changes.
func (w *worker) placeOf(p *person, t *typeInfo, d sd, region string) int32 {
	if p.death != silentcert.NoDate && d >= p.death && p.relPlace != -1 && t.spoofable && t.code != "UTIL.PAYMENT" {
		return p.relPlace
	}
	if t.local || t.code == "UTIL.PAYMENT" || (region != "county" && region != "city") {
		return p.villageOn(d) // at home, or a department that files by village or town
	}
	if p.away != 0 {
		if _, m, _ := d.Civil(); p.away&(1<<m) != 0 {
			return p.awayPlace
		}
	}
	{
		u := float64(mix(mix(w.gen.seed^streamPlace, uint64(p.idx)), uint64(t.id)<<32|uint64(uint32(d)))>>11) / (1 << 53)
		if u < w.gen.rates.Profiles.OtherCounty.of(p.urban) {
			return p.nearPlace
		}
	}
	return p.villageOn(d)
}

// natural writes the records of everyday life, type by type, each from its own stream.
func (w *worker) natural(p *person) {
	gen := w.gen
	for i := range gen.types {
		t := &gen.types[i]
		w.adopted[i] = false
		if !t.natural {
			continue
		}
		g := w.tg[i]
		g.seed(gen.seed, streamType+uint64(i), p.idx)
		if t.reqFlag != 0 && !p.has(t.reqFlag) {
			continue
		}
		a, rt := t.adopt.of(p.urban), t.perYear.of(p.urban)*t.mult
		for _, m := range t.mods {
			if (m.fl == 0 && !p.urban) || (m.fl != 0 && p.has(m.fl)) {
				a *= m.adopt
				rt *= m.rate
			}
		}
		if !g.chance(math.Min(a, 1)) {
			continue
		}
		w.adopted[i] = true
		w.rate[i] = rt * g.gamma(t.spread)
	}
	for i := range gen.types {
		t := &gen.types[i]
		if !w.adopted[i] || (t.reqType >= 0 && !w.adopted[t.reqType]) {
			continue
		}
		w.events(p, t, w.tg[i], w.rate[i])
	}
	// Habitual face self-certification once a year, whatever the data say.
	g := w.gc
	if h := gen.rates.Certification.Habitual.of(p.urban); g.chance(h) {
		t := &gen.types[gen.face]
		for y := gen.fromYear; y <= gen.toYear; y++ {
			d := silentcert.MakeDate(y, 1, 1) + sd(g.intn(365))
			if d >= gen.from && d < w.activeUntil(p, t) && w.allowed(p, t, d) {
				w.emit(p, t, g, d)
			}
		}
	}
}

// events writes type t's records of p at yearly rate rt.
func (w *worker) events(p *person, t *typeInfo, g *rng, rt float64) {
	gen := w.gen
	last := w.activeUntil(p, t)
	if last < gen.start || rt <= 0 {
		return
	}
	switch t.mode {
	case modePoisson:
		for m := gen.start.Month(); m <= last.Month(); m++ {
			_, mon := m.Civil()
			first, end := m.First(), m.Last()
			n := g.poisson(rt / 12 * t.season[mon-1])
			for k := 0; k < n; k++ {
				d := first + sd(g.intn(int(end-first)+1))
				if d < gen.start || d > last || !w.allowed(p, t, d) {
					continue
				}
				w.emit(p, t, g, d)
			}
		}
	case modeMonthly:
		for m := gen.start.Month(); m <= last.Month(); m++ {
			_, mon := m.Civil()
			if !g.chance(rt / 12 * t.season[mon-1]) {
				continue
			}
			first, end := m.First(), m.Last()
			if end > last {
				end = last
			}
			var d sd
			if t.code == "TEL.ACTIVITY" {
				// One summary a month, dated the last day the line was active.
				d = end - sd(g.intn(2))
			} else {
				d = first + sd(g.intn(int(end-first)+1))
			}
			if d < gen.start || d > last || !w.allowed(p, t, d) {
				continue
			}
			w.emit(p, t, g, d)
		}
	case modeAnnual:
		for y := gen.startYear; y <= gen.toYear; y++ {
			if !g.chance(math.Min(rt, 1)) {
				continue
			}
			mon := 1 + g.pick(t.seasonCum)
			dim := silentcert.DaysIn(y, mon)
			d := silentcert.MakeDate(y, mon, 1+g.intn(dim))
			if d < gen.start || d > last || !w.allowed(p, t, d) {
				continue
			}
			w.emit(p, t, g, d)
		}
	}
}

// emit adds a record of type t that happened on day d, with its details and reporting
// date; it drops a record that would reach the platform after --to.
func (w *worker) emit(p *person, t *typeInfo, g *rng, d sd) *rec {
	gen := w.gen
	r := rec{typ: t.id, src: uint8(t.src), event: d, vil: -1, other: -1}
	r.rep = gen.report(t, g, d)
	if r.rep > gen.to {
		return nil
	}
	src := &gen.sources[t.src]
	if src.rate.Region != "" {
		r.vil = w.placeOf(p, t, d, src.rate.Region)
	}
	if g.chance(src.rate.Name) {
		r.fl |= rfName
	}
	if g.chance(src.rate.BirthDate) {
		r.fl |= rfBirth
	}
	switch t.code {
	case "TRN.TRANSIT":
		r.count = uint16(1 + g.poisson(0.7))
	case "MED.INPATIENT":
		r.icd = uint8(1 + icdCritical + g.intn(len(icdCodes)-icdCritical))
		if g.chance(0.12) {
			r.icd = uint8(1 + g.intn(icdCritical))
			r.fl |= rfCritical
		}
		r.amount = money(g, 9000, 0.7)
	case "MED.OUTPATIENT":
		if g.chance(0.6) {
			r.icd = uint8(1 + icdCritical + g.intn(len(icdCodes)-icdCritical))
		}
		r.amount = money(g, 160, 0.8)
	case "MED.CHRONIC":
		r.icd = chronicICD[g.intn(len(chronicICD))]
		r.amount = money(g, 240, 0.5)
	case "MED.REFERRAL":
		r.icd = uint8(1 + g.intn(len(icdCodes)))
	case "MED.PHARMACY":
		r.amount = money(g, 85, 0.7)
	case "MED.LTC_SERVICE":
		r.amount = money(g, 1200, 0.4)
	case "BANK.TXN":
		r.amount = money(g, 800, 0.9)
	case "UTIL.PAYMENT":
		r.amount = money(g, 120, 0.6)
	case "HRSS.CARD_SPEND":
		r.amount = money(g, 70, 0.8)
	}
	w.seq[t.src]++
	r.seq = w.seq[t.src]
	w.recs = append(w.recs, r)
	return &w.recs[len(w.recs)-1]
}

func money(g *rng, median, sigma float64) silentcert.Fen {
	v := g.lognormal(median, sigma)
	if v < 1 {
		v = 1
	}
	return silentcert.Fen(math.Round(v * 100))
}

// report returns the day a record of type t that happened on d reaches the platform.
func (gen *generator) report(t *typeInfo, g *rng, d sd) sd {
	lag := sd(g.between(t.delay.Min, t.delay.Max))
	var rep sd
	switch t.delay.Batch {
	case "weekly":
		rep = d + sd(7-weekday(d)) + lag
	case "monthly":
		rep = d.Month().First().AddMonths(1) + lag
	default:
		rep = d + lag
	}
	return gen.late(t.src, rep)
}

// late applies a late batch: the month's deliveries of a source held back.
func (gen *generator) late(src int, rep sd) sd {
	if m := int(rep.Month() - gen.start.Month()); m >= 0 && m < gen.nMonths {
		rep += sd(gen.lateDays[src*gen.nMonths+m])
	}
	return rep
}

// weekday returns 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
func weekday(d sd) int { return (int(d)%7 + 7 + 3) % 7 }

// deathRecords writes the admissions that precede a death and the departments' death
// records.
func (w *worker) deathRecords(p *person) {
	if p.death == silentcert.NoDate {
		return
	}
	gen := w.gen
	g := w.gd
	r := gen.rates
	med := &gen.types[gen.inpatient]
	if g.chance(r.Mortality.AdmissionBeforeDeath.of(p.urban)) {
		d := p.death
		if g.chance(0.5) {
			d -= sd(2 + g.intn(40)) // discharged, died at home
		}
		if d >= gen.start {
			if x := w.emit(p, med, g, d); x != nil {
				x.fl &^= rfCritical
				x.icd = uint8(1 + icdCritical + g.intn(len(icdCodes)-icdCritical))
				if g.chance(r.Mortality.AdmissionCritical) {
					x.fl |= rfCritical
					x.icd = uint8(1 + g.intn(icdCritical))
				}
			}
		}
	}
	if p.deathMode == deathNever {
		return
	}
	for _, ci := range gen.deathChannels {
		ch := r.Deaths.Channels[gen.types[ci].code]
		if !g.chance(ch.Share.of(p.urban)) {
			continue
		}
		delay := g.lognormal(ch.DelayMedianDays, ch.DelaySigma)
		if p.deathMode == deathLate {
			delay += float64(g.between(r.Deaths.LateDays[0], r.Deaths.LateDays[1]))
		}
		w.deathRecord(p, &gen.types[ci], g, p.death+sd(delay))
	}
}

// deathRecord writes one death record reported on rep (before late batches).
func (w *worker) deathRecord(p *person, t *typeInfo, g *rng, rep sd) {
	gen := w.gen
	r := gen.rates
	rep = gen.late(t.src, rep)
	if rep > gen.to {
		return
	}
	x := rec{typ: t.id, src: uint8(t.src), event: p.death, rep: rep, vil: -1, other: -1, fl: rfName}
	if gen.sources[t.src].rate.Region != "" {
		x.vil = p.villageOn(p.death)
	}
	if g.chance(gen.sources[t.src].rate.BirthDate) {
		x.fl |= rfBirth
	}
	if g.chance(r.Deaths.WrongDate) {
		// The date of cremation or of the report written as the date of death.
		x.event += sd(1 + g.intn(3))
		if x.event > x.rep {
			x.event = x.rep
		}
		if x.event != p.death {
			x.fl |= rfWrongDate
		}
	}
	if g.chance(r.Deaths.WrongPerson) {
		// A clerk keyed in someone else's ID number (a relative's, a neighbour's) with the
		// dead person's name: the platform must hold it, not stop the living person.
		x.fault = faultWrongPerson
		x.other = int32(w.otherPerson(p, g))
	}
	w.seq[t.src]++
	x.seq = w.seq[t.src]
	w.recs = append(w.recs, x)
}

// falseDeath: a department reports a living person dead under their own ID and name.
// The platform must terminate them on arrival (it cannot know better); the person finds
// the pension stopped and goes to the counter (a STRONG record after the death date: a
// CONFLICT), and a reviewer voids the death record.
func (w *worker) falseDeath(p *person) {
	gen := w.gen
	d := &gen.rates.Deaths
	g := w.gd
	p.falseDeath = silentcert.NoDate
	days := int(gen.to-gen.from) + 1
	if p.death != silentcert.NoDate || d.FalseDeath <= 0 || days < 120 || !g.chance(d.FalseDeath*float64(days)/365.25) {
		return
	}
	ti := gen.typeIndex[d.FalseDeathType]
	t := &gen.types[ti]
	ch := d.Channels[d.FalseDeathType]
	f := gen.from + sd(g.intn(days-120))
	rep := gen.late(t.src, f+sd(g.lognormal(ch.DelayMedianDays, ch.DelaySigma)))
	counter := rep + sd(5+g.intn(35))
	review := counter + sd(3+g.intn(18))
	if review > gen.to {
		return
	}
	p.falseDeath = f
	x := rec{typ: t.id, src: uint8(t.src), event: f, rep: rep, vil: -1, other: -1, fl: rfName | rfFalse}
	if gen.sources[t.src].rate.Region != "" {
		x.vil = p.villageOn(f)
	}
	w.seq[t.src]++
	x.seq = w.seq[t.src]
	w.recs = append(w.recs, x)
	ref := x
	ct := &gen.types[gen.typeIndex["HRSS.COUNTER"]]
	c := rec{typ: ct.id, src: uint8(ct.src), event: counter, rep: counter, vil: -1, other: -1, fl: rfFalse}
	w.seq[ct.src]++
	c.seq = w.seq[ct.src]
	w.recs = append(w.recs, c)
	rt := &gen.types[gen.typeIndex["HRSS.REVIEW"]]
	r := rec{typ: rt.id, src: uint8(rt.src), event: review, rep: review, vil: -1, other: -1, fl: rfFalse | rfAlive,
		refSrc: ref.src, refSeq: ref.seq}
	w.seq[rt.src]++
	r.seq = w.seq[rt.src]
	w.recs = append(w.recs, r)
}

// otherPerson returns another recipient whose name differs from p's.
func (w *worker) otherPerson(p *person, g *rng) int {
	n := w.gen.n
	if n < 2 {
		return p.idx
	}
	j := (p.idx + 1 + g.intn(n-1)) % n
	for k := 0; k < 20; k++ {
		w.gen.drawBase(w.gx, j, &w.other)
		if w.other.name != p.name {
			return j
		}
		j = (j + 1) % n
		if j == p.idx {
			j = (j + 1) % n
		}
	}
	return j
}

// lifeRecords writes prison spells and moves.
func (w *worker) lifeRecords(p *person) {
	gen := w.gen
	g := w.g
	if p.prisonIn != silentcert.NoDate {
		trial := p.prisonIn - sd(g.intn(45))
		if trial >= gen.from {
			w.emit(p, &gen.types[gen.typeIndex["JUS.TRIAL"]], g, trial)
		}
		w.emit(p, &gen.types[gen.typeIndex["JUS.PRISON_IN"]], g, p.prisonIn)
		if p.prisonOut != silentcert.NoDate {
			w.emit(p, &gen.types[gen.typeIndex["JUS.PRISON_OUT"]], g, p.prisonOut)
		}
	}
	if p.moveOn != silentcert.NoDate {
		if x := w.emit(p, &gen.types[gen.typeIndex["PSB.HUKOU_MOVE"]], g, p.moveOn); x != nil {
			x.vil = p.moveTo
		}
		if g.chance(gen.rates.Life.MoveReported) {
			if x := w.emit(p, &gen.types[gen.typeIndex["CMT.MOVED"]], g, p.moveOn); x != nil {
				x.vil = p.moveTo
			}
		}
	}
}

// certPoint is a moment the platform can certify p: on day c, known on day known.
type certPoint struct {
	c, known sd
	weak     bool
}

// certification replays, roughly, the platform's clock as p experiences it: the
// certifications the data give, and when they run out, the reminder, the visit and the
// suspension, to which living people answer by face, at the counter or through the
// village assistant; an assistant who visits someone dead finds the death.
func (w *worker) certification(p *person) {
	gen := w.gen
	cat := gen.cat
	r := &gen.rates.Certification
	g := w.gc
	w.points, w.weak = w.points[:0], w.weak[:0]
	deathKnown := silentcert.NoDate
	for i := range w.recs {
		x := &w.recs[i]
		t := &gen.types[x.typ]
		switch cat.ClassOf(x.typ, x.fl&rfCritical != 0) {
		case silentcert.ClassStrong:
			if x.fault != faultWrongPerson {
				w.points = append(w.points, certPoint{c: x.event, known: x.rep})
			}
		case silentcert.ClassWeak:
			if !t.spoofable {
				w.weak = append(w.weak, certPoint{c: x.event, known: x.rep, weak: true})
			}
		case silentcert.ClassDeath:
			if x.fault != faultWrongPerson && x.fl&rfFalse == 0 && (deathKnown == silentcert.NoDate || x.rep < deathKnown) {
				deathKnown = x.rep
			}
		}
	}
	// Weak points: the distinct days on which the baseline rule would be met, counting
	// the distinct days with a trace in the window that ends on the day.
	wr := &gen.weakRule
	slices.SortFunc(w.weak, func(a, b certPoint) int { return int(a.c - b.c) })
	days := w.days[:0]
	for _, x := range w.weak {
		if n := len(days); n > 0 && days[n-1].c == x.c {
			if x.known > days[n-1].known {
				days[n-1].known = x.known
			}
			continue
		}
		days = append(days, x)
	}
	lo := 0
	for i := range days {
		for int(days[i].c-days[lo].c) >= wr.WindowDays {
			lo++
		}
		if i-lo+1 >= wr.MinDays {
			w.points = append(w.points, days[i])
		}
	}
	w.days = days
	slices.SortFunc(w.points, func(a, b certPoint) int {
		if a.known != b.known {
			return int(a.known - b.known)
		}
		return int(a.c - b.c)
	})
	pol := &r.Policy
	until := p.until0
	t := gen.from
	if p.firstMonth.First() > t {
		t = p.firstMonth.First()
	}
	i := 0
	apply := func(pt certPoint) {
		if pt.weak {
			if wr.MaxAgeDays > 0 && int(pt.known-pt.c) > wr.MaxAgeDays {
				return
			}
			if wr.RenewWithinMonths > 0 && pt.known < until.AddMonths(-wr.RenewWithinMonths) {
				return
			}
		}
		if u := pt.c.AddMonths(p.period); u > until {
			until = u
		}
	}
	for guard := 0; guard < 1000 && t <= gen.to; guard++ {
		if deathKnown != silentcert.NoDate && t >= deathKnown {
			return
		}
		warn := until.AddMonths(-pol.WarningMonths)
		if t > warn {
			warn = t
		}
		if i < len(w.points) && w.points[i].known <= warn {
			apply(w.points[i])
			if w.points[i].known > t {
				t = w.points[i].known
			}
			i++
			continue
		}
		next := silentcert.NoDate
		if i < len(w.points) {
			next = w.points[i].known
		}
		resp, kind, stage := w.respond(p, g, until, warn)
		dead := p.death != silentcert.NoDate && (resp == silentcert.NoDate || resp >= p.death)
		if dead {
			w.communityFindsDeath(p, g, until, t, deathKnown)
			return
		}
		if resp != silentcert.NoDate && resp <= gen.to && (next == silentcert.NoDate || resp < next) &&
			(deathKnown == silentcert.NoDate || resp < deathKnown) {
			if c := w.answer(p, g, resp, kind, stage); c != silentcert.NoDate {
				if u := c.AddMonths(p.period); u > until {
					until = u
				}
			}
			t = resp + 1
			continue
		}
		if next == silentcert.NoDate {
			return
		}
		apply(w.points[i])
		t = next
		i++
	}
}

// Response kinds.
const (
	ansFace uint8 = iota
	ansCounter
	ansVisit
)

// respond draws when and how a living p answers once their certification runs out at
// until, looking from day from: in the warning window, while pending, or month by month
// after suspension. It returns NoDate when p does not answer before --to.
func (w *worker) respond(p *person, g *rng, until, from sd) (sd, uint8, int) {
	gen := w.gen
	r := &gen.rates.Certification
	pol := &r.Policy
	pend := until + 1
	susp := until.AddMonths(pol.GraceMonths) + 1
	window := func(a, b sd) sd {
		if a < from {
			a = from
		}
		if b < a {
			return silentcert.NoDate
		}
		return a + sd(g.intn(int(b-a)+1))
	}
	if from <= until && g.chance(r.InWarning.of(p.urban)) {
		if d := window(until.AddMonths(-pol.WarningMonths), until); d != silentcert.NoDate {
			kind := ansCounter
			if g.chance(r.FaceWarning.of(p.urban)) {
				kind = ansFace
			}
			return w.unlessJailed(p, g, d), kind, 1
		}
	}
	if from < susp && g.chance(r.InPending.of(p.urban)) {
		if d := window(pend, susp-1); d != silentcert.NoDate {
			kind := ansFace
			if g.chance(r.VisitPending.of(p.urban)) {
				kind = ansVisit
			}
			return w.unlessJailed(p, g, d), kind, 2
		}
	}
	start := susp
	if from > start {
		start = from
	}
	for k := 0; start+sd(30*k) <= gen.to; k++ {
		if g.chance(r.PerMonthSuspended.of(p.urban)) {
			d := start + sd(30*k+g.intn(30))
			kind := ansCounter
			switch x := g.float(); {
			case x < 0.3:
				kind = ansVisit
			case x < 0.5:
				kind = ansFace
			}
			return w.unlessJailed(p, g, d), kind, 3
		}
	}
	return silentcert.NoDate, 0, 0
}

// unlessJailed moves an answer that falls in a prison spell to just after release.
func (w *worker) unlessJailed(p *person, g *rng, d sd) sd {
	if p.prisonIn != silentcert.NoDate && d >= p.prisonIn {
		if p.prisonOut == silentcert.NoDate {
			return silentcert.NoDate
		}
		if d < p.prisonOut {
			return p.prisonOut + sd(1+g.intn(20))
		}
	}
	return d
}

// answer writes p's answer on day d and returns the certification date it gives (NoDate
// when the visit found no one or was refused).
func (w *worker) answer(p *person, g *rng, d sd, kind uint8, stage int) sd {
	gen := w.gen
	r := &gen.rates.Certification
	switch kind {
	case ansFace:
		if x := w.emit(p, &gen.types[gen.face], g, d); x != nil {
			if p.has(flFrail) || p.age0 >= 85 || g.chance(r.AgentFace) {
				x.fl |= rfAgent
			}
			return d
		}
	case ansCounter:
		if w.emit(p, &gen.types[gen.typeIndex["HRSS.COUNTER"]], g, d) != nil {
			return d
		}
	case ansVisit:
		switch x := g.float(); {
		case x < r.NotFound:
			w.emit(p, &gen.types[gen.typeIndex["CMT.NOT_FOUND"]], g, d)
			return silentcert.NoDate
		case x < r.NotFound+r.Refused:
			w.emit(p, &gen.types[gen.typeIndex["CMT.REFUSED"]], g, d)
			return silentcert.NoDate
		}
		if w.emit(p, &gen.types[gen.typeIndex["CMT.VISIT"]], g, d) != nil {
			return d
		}
	}
	return silentcert.NoDate
}

// communityFindsDeath: once a dead person's certification runs out and no department has
// reported the death, the village assistant visits and, unless the family hides it,
// reports the death.
func (w *worker) communityFindsDeath(p *person, g *rng, until, t, deathKnown sd) {
	gen := w.gen
	r := &gen.rates.Certification
	// Weak or strong records reported later may still extend the certification (late
	// batches of the last days); the visit waits for the clock as the platform has it.
	for i := range w.points {
		if w.points[i].known >= t && w.points[i].c < p.death {
			if u := w.points[i].c.AddMonths(p.period); u > until {
				until = u
			}
		}
	}
	pend := until + 1
	if pend < t {
		pend = t
	}
	if pend <= p.death {
		pend = p.death + 1
	}
	for k := 0; ; k++ {
		d := pend + sd(g.intn(30)) + sd(30*k)
		if d > gen.to || (deathKnown != silentcert.NoDate && d >= deathKnown) {
			return
		}
		if !g.chance(r.VisitPending.of(p.urban)) {
			continue
		}
		if p.fraud && g.chance(0.5) {
			w.emit(p, &gen.types[gen.typeIndex["CMT.NOT_FOUND"]], g, d)
			continue
		}
		if g.chance(r.VisitFindsDeath) {
			ct := &gen.types[gen.typeIndex["CMT.DEATH_REPORT"]]
			w.deathRecord(p, ct, g, d+sd(g.intn(3)))
			return
		}
	}
}
