package sim

import (
	"strconv"

	"github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/exchange"
)

// Malformed row kinds: each is a reason spec §3 rejects a row into quarantine.
const (
	badNone uint8 = iota
	badDate
	badMissingType
	badUnknownType
	badWrongSource
	badReportedBeforeEvent
	badNoSubject
	badMissingRecordID
	badTruncated
	nBad
)

var badNames = []string{"", "bad_date", "missing_type", "unknown_type", "type_not_allowed_for_source",
	"reported_before_event", "no_subject", "missing_record_id", "truncated_row"}

// Sinks 0–2 are the roster, the truth and the fault list; record files follow, one per
// source and month of reported_date.
const (
	sinkRoster = iota
	sinkTruth
	sinkFaults
	sinkRecords
)

var rosterHeader = "person_id,name,sex,birth_date,hukou_address,region_code,phone,agent_phone,benefit_type,monthly_amount,start_month,end_month,offset_capacity,last_certified"

// TruthColumns are the columns of truth.csv, one row per recipient.
var TruthColumns = []string{"person_id", "name", "sex", "birth_date", "village_code", "urban", "profile", "first_month",
	"monthly_total", "capacity", "period_months", "last_certified", "death_date", "death_report", "first_death_report",
	"death_records", "wrong_person_death", "fraud", "fraud_until", "post_death_records", "prison_in", "prison_out",
	"moved_on", "moved_to", "records", "false_death", "card_use_reported"}

var faultsHeader = "file,source,record_id,kind,person_id"

func (w *worker) sink(s int) *[]byte { return &w.out.bufs[s] }

func appendDate(b []byte, d sd) []byte {
	if d == silentcert.NoDate {
		return b
	}
	return d.AppendTo(b)
}

// writePerson writes p's roster rows, records (with their faults), truth row and fault rows.
func (w *worker) writePerson(p *person) {
	w.writeRoster(p)
	for i := range w.recs {
		w.writeRecord(p, &w.recs[i])
	}
	w.writeTruth(p)
	w.out.stats.persons++
	if p.death != silentcert.NoDate {
		w.out.stats.deaths++
	}
}

func (w *worker) writeRoster(p *person) {
	gen := w.gen
	g := w.gr
	pop := &gen.rates.Population
	b := w.sink(sinkRoster)
	v := &gen.city.villages[p.vil]
	addr := gen.city.address(g, v)
	omitRegion := g.chance(pop.RegionCodeOmitted)
	omitSex := g.chance(pop.SexOmitted)
	phone := p.phone
	if phone != "" && g.chance(gen.rates.Faults.RosterBadPhone) {
		phone = phone[:10] // a digit lost when it was keyed in
		w.faultRow("roster.csv", "", "", "roster_bad_phone", p.id[:])
	}
	// One of the later rows of a person with several entitlements may carry another name
	// (another agency's clerk keyed a relative's, or another given name): the reader
	// quarantines it and counts it against the person. Drawn from a stream of its own, so
	// that every other draw is as it was without this fault.
	conflict, other := -1, ""
	if len(p.ents) >= 2 && gen.rates.Faults.RosterNameConflict > 0 {
		w.gn.seed(gen.seed, streamRosterName, p.idx)
		if w.gn.chance(gen.rates.Faults.RosterNameConflict) {
			conflict = 1 + w.gn.intn(len(p.ents)-1)
			other = gen.otherName(w.gn, &p.base)
			w.faultRow("roster.csv", "", "", "roster_name_conflict", p.id[:])
		}
	}
	for i, e := range p.ents {
		name := p.name
		if i == conflict {
			name = other
		}
		row := *b
		row = append(row, p.id[:]...)
		row = append(row, ',')
		row = exchange.AppendCSVField(row, []byte(name))
		row = append(row, ',')
		if !omitSex {
			row = append(row, byte('0'+p.sex))
			row = append(row, ',')
			row = p.birth.AppendTo(row)
		} else {
			row = append(row, ',')
		}
		row = append(row, ',')
		row = exchange.AppendCSVField(row, []byte(addr))
		row = append(row, ',')
		if !omitRegion {
			row = append(row, v.code...)
		}
		row = append(row, ',')
		row = append(row, phone...)
		row = append(row, ',')
		row = append(row, p.agentPhone...)
		row = append(row, ',')
		row = append(row, e.code...)
		row = append(row, ',')
		row = e.monthly.AppendTo(row)
		row = append(row, ',')
		row = e.start.AppendTo(row)
		row = append(row, ',')
		if e.end != silentcert.NoMonth {
			row = e.end.AppendTo(row)
		}
		row = append(row, ',')
		if e.capacity >= 0 {
			row = e.capacity.AppendTo(row)
		}
		row = append(row, ',')
		row = appendDate(row, p.lastCert)
		row = append(row, '\n')
		*b = row
		w.out.stats.rosterRows++
	}
}

func (w *worker) writeTruth(p *person) {
	gen := w.gen
	b := w.sink(sinkTruth)
	row := *b
	row = append(row, p.id[:]...)
	row = append(row, ',')
	row = exchange.AppendCSVField(row, []byte(p.name))
	row = append(row, ',', byte('0'+p.sex), ',')
	row = p.birth.AppendTo(row)
	row = append(row, ',')
	row = append(row, gen.city.villages[p.vil].code...)
	row = append(row, ',')
	if p.urban {
		row = append(row, '1')
	} else {
		row = append(row, '0')
	}
	row = append(row, ',')
	row = p.flags.profileString(row)
	row = append(row, ',')
	row = p.firstMonth.AppendTo(row)
	row = append(row, ',')
	row = p.monthlyTotal.AppendTo(row)
	row = append(row, ',')
	if p.capacityKnown {
		row = p.capacity.AppendTo(row)
	}
	row = append(row, ',')
	row = strconv.AppendInt(row, int64(p.period), 10)
	row = append(row, ',')
	row = appendDate(row, p.lastCert)
	row = append(row, ',')
	row = appendDate(row, p.death)
	row = append(row, ',')
	row = append(row, deathModeNames[p.deathMode]...)
	row = append(row, ',')
	row = appendDate(row, p.firstDeathReport)
	row = append(row, ',')
	row = strconv.AppendInt(row, int64(p.deathRecords), 10)
	row = append(row, ',')
	row = appendBool(row, p.wrongPerson)
	row = append(row, ',')
	row = appendBool(row, p.fraud)
	row = append(row, ',')
	if p.fraud {
		row = appendDate(row, min(p.fraudEnd, gen.to))
	}
	row = append(row, ',')
	row = strconv.AppendInt(row, int64(p.postDeath), 10)
	row = append(row, ',')
	row = appendDate(row, p.prisonIn)
	row = append(row, ',')
	row = appendDate(row, p.prisonOut)
	row = append(row, ',')
	row = appendDate(row, p.moveOn)
	row = append(row, ',')
	if p.moveOn != silentcert.NoDate {
		row = append(row, gen.city.villages[p.moveTo].code...)
	}
	row = append(row, ',')
	row = strconv.AppendInt(row, int64(p.records), 10)
	row = append(row, ',')
	row = appendDate(row, p.falseDeath)
	row = append(row, ',')
	row = appendDate(row, p.cardUse)
	row = append(row, '\n')
	*b = row
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, '1')
	}
	return append(b, '0')
}

// faultRow lists one injected fault in faults.csv.
func (w *worker) faultRow(file, source, recordID, kind string, personID []byte) {
	b := w.sink(sinkFaults)
	row := *b
	row = append(row, file...)
	row = append(row, ',')
	row = append(row, source...)
	row = append(row, ',')
	row = exchange.AppendCSVField(row, []byte(recordID))
	row = append(row, ',')
	row = append(row, kind...)
	row = append(row, ',')
	row = append(row, personID...)
	row = append(row, '\n')
	*b = row
	w.out.stats.faults[kind]++
}

// Characters a clerk may key in for another that sounds the same.
var homophones = map[rune]rune{'英': '瑛', '华': '桦', '秀': '绣', '兰': '岚', '明': '铭', '国': '帼', '军': '君', '芳': '方',
	'红': '虹', '伟': '玮', '丽': '莉', '平': '萍', '玉': '钰', '珍': '真', '梅': '美', '林': '琳', '海': '涛', '建': '健',
	'文': '雯', '志': '智', '凤': '风', '桂': '贵', '霞': '侠', '云': '芸', '春': '椿', '敏': '民', '强': '蔷', '静': '晶'}

// mistype returns name with its last character replaced by one that sounds alike (or by
// 某 when none is known): a name that no longer agrees with the roster.
func mistype(name string) string {
	rs := []rune(name)
	last := rs[len(rs)-1]
	if h, ok := homophones[last]; ok {
		rs[len(rs)-1] = h
	} else if last != '某' {
		rs[len(rs)-1] = '某'
	} else {
		rs[len(rs)-1] = '甲'
	}
	return string(rs)
}

// decideFaults draws the faults of one record.
func (w *worker) decideFaults(p *person, x *rec) {
	gen := w.gen
	g := w.gf
	fr := &gen.rates.Faults
	src := &gen.sources[x.src]
	k := src.rate.FaultFactor
	if x.fl&rfFalse != 0 {
		k = 0 // the false-death story is told cleanly: its point is the conflict
	}
	if g.chance(fr.Malformed * k) {
		x.bad = uint8(1 + g.intn(int(nBad)-1))
		return
	}
	if x.fault == faultNone {
		switch u := g.float(); {
		case u < fr.IDTypo*k:
			x.fault = faultIDTypo
		case u < (fr.IDTypo+fr.ID15)*k:
			x.fault = faultID15
		case u < (fr.IDTypo+fr.ID15+fr.IDMissing)*k:
			// A record without an ID number carries the name and birth date to link by,
			// when the department's file has those columns at all.
			if src.hasName && src.hasBirth {
				x.fault = faultIDMissing
				x.fl |= rfName | rfBirth
			} else {
				x.fault = faultIDTypo
			}
		}
	}
	if x.fault == faultNone && p.id[17] == 'X' && g.chance(fr.IDLowerX) {
		x.fault = faultLowerX
	}
	if x.fault == faultNone && x.fl&rfName != 0 {
		switch u := g.float(); {
		case u < fr.NameVariant*k:
			x.fault = faultNameVariant
		case u < (fr.NameVariant+fr.NameMismatch)*k:
			x.fault = faultNameMismatch
		}
	}
	if g.chance(fr.Duplicate * k) {
		x.fl |= rfDup
	} else if g.chance(fr.DuplicateChanged * k) {
		x.fl |= rfDupChanged
	}
	if g.chance(src.rate.NoReportedDate) {
		x.fl |= rfNoReported
	}
}

// writeRecord writes one record (and its duplicate), with its faults.
func (w *worker) writeRecord(p *person, x *rec) {
	gen := w.gen
	w.decideFaults(p, x)
	t := &gen.types[x.typ]
	rep := x.rep
	if x.fl&rfNoReported != 0 {
		rep = x.event
	}
	s, file := w.recordSink(x.src, rep)
	if s < 0 {
		return
	}
	p.records++
	// clean: the record reaches the person it was made for.
	clean := x.bad == badNone && (x.fault == faultNone || x.fault == faultLowerX || x.fault == faultNameVariant)
	if p.death != silentcert.NoDate && x.event > p.death && t.class != silentcert.ClassDeath {
		p.postDeath++
		if t.spoofable && t.code != "UTIL.PAYMENT" && clean && (p.cardUse == silentcert.NoDate || rep < p.cardUse) {
			p.cardUse = rep
		}
	}
	if t.class == silentcert.ClassDeath && x.fl&rfFalse == 0 {
		p.deathRecords++
		if x.fault == faultWrongPerson {
			p.wrongPerson = true
		}
		if clean && (p.firstDeathReport == silentcert.NoDate || rep < p.firstDeathReport) {
			p.firstDeathReport = rep
		}
	}
	w.row(p, x, s, rep, x.event, x.amount, false)
	id := w.recordID(x)
	if x.bad != badNone {
		w.faultRow(file, t.source, id, "malformed:"+badNames[x.bad], p.id[:])
	}
	if x.fault != faultNone {
		w.faultRow(file, t.source, id, faultNames[x.fault], p.id[:])
	}
	if x.fl&rfNoReported != 0 {
		w.faultRow(file, t.source, id, "no_reported_date", p.id[:])
	}
	if x.fl&rfFalse != 0 && t.class == silentcert.ClassDeath {
		w.faultRow(file, t.source, id, "false_death", p.id[:])
	}
	if x.fl&rfWrongDate != 0 {
		w.faultRow(file, t.source, id, "death_date_disagree", p.id[:])
	}
	switch {
	case x.fl&rfDup != 0:
		w.row(p, x, s, rep, x.event, x.amount, true)
		w.faultRow(file, t.source, id, "duplicate", p.id[:])
	case x.fl&rfDupChanged != 0:
		// Resent in a later batch with a correction.
		rep2 := rep + sd(3+w.gf.intn(40))
		if rep2 > gen.to {
			break
		}
		s2, file2 := w.recordSink(x.src, rep2)
		ev, amt := x.event, x.amount
		if amt > 0 {
			amt = amt/2 + silentcert.Fen(w.gf.intn(int(amt)+1))
		} else if ev > gen.from {
			ev--
		}
		x.fl &^= rfNoReported
		w.row(p, x, s2, rep2, ev, amt, true)
		w.faultRow(file2, t.source, id, "duplicate_changed", p.id[:])
	}
}

// recordSink returns the sink and file of a record of source src reported on rep.
func (w *worker) recordSink(src uint8, rep sd) (int, string) {
	gen := w.gen
	m := int(rep.Month() - gen.start.Month())
	if m < 0 || m >= gen.nMonths {
		return -1, ""
	}
	s := sinkRecords + int(src)*gen.nMonths + m
	return s, gen.sinks[s].path
}

func (w *worker) recordID(x *rec) string { return string(w.appendRecordID(nil, x)) }

// appendRecordID appends the record's ID: its source, the person's index and a sequence.
// Departments number records their own way; the platform only needs (source, record_id)
// to be unique.
func (w *worker) appendRecordID(b []byte, x *rec) []byte {
	b = append(b, w.gen.sources[x.src].code...)
	var tmp [20]byte
	n := strconv.AppendInt(tmp[:0], int64(w.p.idx), 10)
	for i := len(n); i < 8; i++ {
		b = append(b, '0')
	}
	b = append(b, n...)
	b = append(b, '-')
	return strconv.AppendInt(b, int64(x.seq), 10)
}
