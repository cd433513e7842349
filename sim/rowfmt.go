package sim

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/exchange"
)

// field positions of spec §3.
const (
	colRecordID = iota
	colSource
	colType
	colPersonID
	colName
	colBirthDate
	colEventDate
	colReportedDate
	colRegionCode
	colDetail
	colExtra
	nCols
)

var colNames = []string{"record_id", "source", "type", "person_id", "name", "birth_date", "event_date", "reported_date", "region_code", "detail"}

func colIndex(name string) int {
	for i, n := range colNames {
		if n == name {
			return i
		}
	}
	return -1
}

// row appends one record row to sink s. Everything that varies between rows is drawn from
// the record itself, so a duplicate row is byte-identical to its original.
func (w *worker) row(p *person, x *rec, s int, rep, event sd, amount silentcert.Fen, dup bool) {
	gen := w.gen
	src := &gen.sources[x.src]
	t := &gen.types[x.typ]
	h := mix(uint64(p.idx)<<20|uint64(x.seq), uint64(x.src)+uint64(gen.seed))
	var f [nCols][]byte
	sc := w.scratch[:0]
	mark := func() int { return len(sc) }
	cut := func(i int) []byte { return sc[i:len(sc):len(sc)] }

	i := mark()
	if x.bad != badMissingRecordID {
		sc = w.appendRecordID(sc, x)
	}
	f[colRecordID] = cut(i)
	f[colSource] = []byte(src.code)
	switch x.bad {
	case badMissingType:
		f[colType] = nil
	case badUnknownType:
		i = mark()
		sc = append(sc, src.code...)
		sc = append(sc, ".OTHER"...)
		f[colType] = cut(i)
	case badWrongSource:
		f[colType] = []byte(gen.foreignType[x.src])
	default:
		f[colType] = []byte(t.code)
	}
	// The subject.
	id := p.id
	if x.fault == faultWrongPerson {
		gen.drawBase(w.gx, int(x.other), &w.other)
		id = w.other.id
	}
	i = mark()
	switch {
	case x.bad == badNoSubject:
	case x.fault == faultIDMissing:
	case x.fault == faultID15:
		sc = append(sc, id[:6]...)
		sc = append(sc, id[8:17]...)
	case x.fault == faultIDTypo:
		pos := 6 + int(h%11)
		d := id[pos] - '0'
		sc = append(sc, id[:]...)
		sc[i+pos] = '0' + (d+1+byte(h>>8%9))%10
	case x.fault == faultLowerX:
		sc = append(sc, id[:17]...)
		sc = append(sc, 'x')
	default:
		sc = append(sc, id[:]...)
	}
	f[colPersonID] = cut(i)
	if x.fl&rfName != 0 && x.bad != badNoSubject {
		i = mark()
		switch x.fault {
		case faultNameVariant:
			sc = append(sc, variantOf(p.name, h)...)
		case faultNameMismatch:
			sc = append(sc, mistype(p.name)...)
		default:
			sc = append(sc, p.name...)
		}
		f[colName] = cut(i)
	}
	if x.fl&rfBirth != 0 {
		i = mark()
		sc = p.birth.AppendTo(sc)
		f[colBirthDate] = cut(i)
	}
	// Dates.
	i = mark()
	switch {
	case x.bad == badDate:
		y, m, d := event.Civil()
		if h&1 == 0 {
			sc = strconv.AppendInt(sc, int64(y), 10)
			sc = append(sc, '/')
			sc = strconv.AppendInt(sc, int64(m), 10)
			sc = append(sc, '/')
			sc = strconv.AppendInt(sc, int64(d), 10)
		} else {
			sc = strconv.AppendInt(sc, int64(y*10000+m*100+d), 10)
		}
	case src.rate.Datetime != "":
		sc = appendDateTime(sc, event, h, src.rate.Datetime == "utc")
	default:
		sc = event.AppendTo(sc)
	}
	f[colEventDate] = cut(i)
	if x.fl&rfNoReported == 0 {
		i = mark()
		r := rep
		if x.bad == badReportedBeforeEvent {
			r = event - sd(1+h%5)
		}
		sc = r.AppendTo(sc)
		f[colReportedDate] = cut(i)
	}
	if x.vil >= 0 || x.vil < -1 {
		var code string
		if x.vil >= 0 {
			code = gen.city.villages[x.vil].code
		} else {
			code = gen.city.elsewhere[-2-x.vil][:6] + "000000"
		}
		switch src.rate.Region {
		case "village":
			f[colRegionCode] = []byte(code)
		case "town":
			f[colRegionCode] = []byte(code[:9])
		case "county":
			f[colRegionCode] = []byte(code[:6])
		case "city":
			f[colRegionCode] = []byte(code[:4])
		}
	}
	i = mark()
	sc = appendDetail(sc, x, amount)
	if x.refSeq > 0 {
		// A review names the record it decides on.
		if len(sc) > i {
			sc = append(sc, ';')
		}
		if x.fl&rfAlive != 0 {
			sc = append(sc, "accept=alive;ref="...)
		} else {
			sc = append(sc, "accept=death;ref="...)
		}
		sc = append(append(sc, gen.sources[x.refSrc].code...), ':')
		sc = w.appendRecordID(sc, &rec{src: x.refSrc, seq: x.refSeq})
	}
	f[colDetail] = cut(i)
	if src.rate.ExtraColumn != "" {
		i = mark()
		sc = append(sc, 'K')
		sc = strconv.AppendInt(sc, int64(1+h%120), 10)
		f[colExtra] = cut(i)
	}
	w.scratch = sc

	b := w.sink(s)
	out := *b
	start := len(out)
	if gen.sinks[s].jsonl {
		out = append(out, '{')
		n := 0
		for _, c := range src.cols {
			v := f[c]
			if len(v) == 0 {
				continue
			}
			if n > 0 {
				out = append(out, ',')
			}
			n++
			out = append(out, '"')
			if c == colExtra {
				out = append(out, src.rate.ExtraColumn...)
			} else {
				out = append(out, colNames[c]...)
			}
			out = append(out, '"', ':')
			if c == colDetail && src.code == "MED" {
				out = appendDetailJSON(out, x, amount)
				continue
			}
			out = appendJSONString(out, v)
		}
		out = append(out, '}')
		if x.bad == badTruncated {
			// Cut where a character starts: the line is broken JSON, not broken UTF-8.
			cut := start + (len(out)-start)/2
			for cut > start && !utf8.RuneStart(out[cut]) {
				cut--
			}
			out = out[:cut]
		}
		out = append(out, '\n')
	} else {
		for k, c := range src.cols {
			if x.bad == badTruncated && k >= len(src.cols)/2 {
				break
			}
			if k > 0 {
				out = append(out, ',')
			}
			out = exchange.AppendCSVField(out, f[c])
		}
		if src.rate.CRLF {
			out = append(out, '\r')
		}
		out = append(out, '\n')
	}
	*b = out
	w.out.stats.records[x.src]++
	if dup {
		w.out.stats.dupRows++
	}
}

// appendDateTime writes a time of day drawn from h on day d, in Shanghai local time or in
// UTC with a Z (which may fall on the previous day: the reader must convert it back).
func appendDateTime(b []byte, d sd, h uint64, utc bool) []byte {
	secs := 6*3600 + int(h>>16%(16*3600)) // 06:00–21:59 local
	if utc {
		secs -= 8 * 3600
		if secs < 0 {
			secs += 86400
			d--
		}
	}
	b = d.AppendTo(b)
	b = append(b, 'T')
	b = append2(b, secs/3600)
	b = append(b, ':')
	b = append2(b, secs/60%60)
	b = append(b, ':')
	b = append2(b, secs%60)
	if utc {
		b = append(b, 'Z')
	}
	return b
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// appendDetail writes the known detail keys of spec §3 in their order.
func appendDetail(b []byte, x *rec, amount silentcert.Fen) []byte {
	n := 0
	sep := func() {
		if n > 0 {
			b = append(b, ';')
		}
		n++
	}
	if x.icd > 0 {
		sep()
		b = append(b, "icd10="...)
		b = append(b, icdCodes[x.icd-1]...)
	}
	if x.fl&rfCritical != 0 {
		sep()
		b = append(b, "critical=1"...)
	}
	if amount > 0 {
		sep()
		b = append(b, "amount="...)
		b = amount.AppendTo(b)
	}
	if x.fl&rfAgent != 0 {
		sep()
		b = append(b, "agent=1"...)
	}
	if x.count > 0 {
		sep()
		b = append(b, "count="...)
		b = strconv.AppendInt(b, int64(x.count), 10)
	}
	return b
}

// appendDetailJSON writes the detail as a JSON object of strings, as MED's system does.
func appendDetailJSON(b []byte, x *rec, amount silentcert.Fen) []byte {
	b = append(b, '{')
	n := 0
	kv := func(k string, v []byte) {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':', '"')
		b = append(b, v...)
		b = append(b, '"')
	}
	var tmp [24]byte
	if x.icd > 0 {
		kv("icd10", []byte(icdCodes[x.icd-1]))
	}
	if x.fl&rfCritical != 0 {
		kv("critical", []byte("1"))
	}
	if amount > 0 {
		kv("amount", amount.AppendTo(tmp[:0]))
	}
	if x.count > 0 {
		kv("count", strconv.AppendInt(tmp[:0], int64(x.count), 10))
	}
	return append(b, '}')
}

func appendJSONString(b, s []byte) []byte {
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// variantOf is variant with its choices taken from h (no random stream: duplicates must
// be identical).
func variantOf(name string, h uint64) string {
	switch {
	case strings.Contains(name, "·") && h&2 == 0:
		return strings.ReplaceAll(name, "·", "")
	case strings.Contains(name, "·"):
		// Spaced: a variant spec §3 reads as the same name (another dot, ・ or •, is
		// another name, held for review).
		return strings.ReplaceAll(name, "·", " · ")
	}
	rs := []rune(name)
	if len(rs) < 2 {
		return name + " "
	}
	sep := " "
	if h&4 != 0 {
		sep = "\u3000"
	}
	return string(rs[:1]) + sep + string(rs[1:])
}
