package sim

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/silentcert/silentcert"
)

// Money is an amount in fen that JSON shows as yuan with two decimals, written from the
// integer (never through a float).
type Money silentcert.Fen

// MarshalJSON writes the amount as a JSON number with exactly two decimals.
func (m Money) MarshalJSON() ([]byte, error) { return silentcert.Fen(m).AppendTo(nil), nil }

// String returns the amount in yuan with two decimals.
func (m Money) String() string { return silentcert.Fen(m).String() }

// Stats summarises a distribution: count, median, 95th percentile and maximum (nearest
// rank).
type Stats struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	P95    float64 `json:"p95"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
}

func statsOf(v []float64) Stats {
	if len(v) == 0 {
		return Stats{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		if i < 0 {
			i = 0
		}
		return s[i]
	}
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	return Stats{N: len(s), Median: rank(0.5), P95: rank(0.95), Max: s[len(s)-1], Mean: round4(sum / float64(len(s)))}
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }

// Evaluation is the score of a backtest against a scenario's ground truth.
type Evaluation struct {
	Scenario         ScenarioRef      `json:"scenario"`
	Recipients       int              `json:"recipients"`
	LivingOnTo       int              `json:"living_on_to"`
	Deaths           int              `json:"deaths"`
	Silent           SilentScore      `json:"silent"`
	DeadCertified    DeadCertified    `json:"dead_certified"`
	Termination      Termination      `json:"termination"`
	UnreportedDeaths UnreportedDeaths `json:"unreported_deaths"`
	Overpayment      Overpayment      `json:"overpayment"`
	Living           LivingHarm       `json:"living"`
	Pending          PendingScore     `json:"pending"`
	Fraud            FraudScore       `json:"fraud"`
	Checks           []Check          `json:"checks"`
	// Models scores the evidence models when the run had one (backtest --model).
	Models *ModelMetrics `json:"models,omitempty"`
}

// ScenarioRef names the scenario evaluated.
type ScenarioRef struct {
	City     string `json:"city"`
	CityName string `json:"city_name"`
	From     string `json:"from"`
	To       string `json:"to"`
	Seed     uint64 `json:"seed"`
}

// SilentScore is the share of living recipients whose latest certification on --to came
// from data (STRONG or WEAK), with every method's count.
type SilentScore struct {
	Share    float64        `json:"share"`
	Silent   int            `json:"silent"`
	Living   int            `json:"living"`
	ByMethod map[string]int `json:"by_method"`
}

// DeadCertified counts CERTIFIED rows written after a person's true death. Rows whose
// certification date (certified_on) is after the death are errors; rows whose
// certification date is on or before it are late records of the person's last days.
type DeadCertified struct {
	Rows       int `json:"rows"`
	People     int `json:"people"`
	LateRows   int `json:"info_late_records_rows"`
	LatePeople int `json:"info_late_records_people"`
}

// Termination measures how deaths were acted on.
type Termination struct {
	Terminated    int   `json:"terminated"`
	NotTerminated int   `json:"not_terminated"`
	Days          Stats `json:"days_death_to_termination"`
	// Reported counts deaths with a linkable, unheld death record reported by --to;
	// OnArrival those terminated on the day that record arrived (or earlier); Conflict
	// those held in CONFLICT instead.
	Reported  int `json:"reported"`
	OnArrival int `json:"on_arrival"`
	Late      int `json:"late"`
	Conflict  int `json:"conflict"`
}

// UnreportedDeaths measures deaths that no department reported in time: how long until
// the platform stopped paying (SUSPENDED or TERMINATED).
type UnreportedDeaths struct {
	N       int   `json:"n"`
	Stopped int   `json:"stopped"`
	Days    Stats `json:"days_death_to_stop"`
}

// Overpayment is the money released for months after a death.
type Overpayment struct {
	AfterDeath Money `json:"after_death"`
	// Avoidable was released by a payroll run after a linkable death record had arrived.
	Avoidable Money `json:"avoidable"`
	// BeforeReport was released before any death record had arrived: only the service
	// period and the suspension rules limit it.
	BeforeReport  Money `json:"before_report"`
	NeverReported Money `json:"never_reported"`
	// AfterFlag is the part of BeforeReport released RiskVisitDays or more after the
	// person's first RISK row after the death: what a visit within that many days of each
	// flag could have stopped, had it found the death (the simulator sends no such
	// visits, so the figure is what the risk list is worth, not what it did).
	AfterFlag Money `json:"before_report_after_risk_flag"`
	// The engine's own figures (overpayments.csv).
	EngineAmount    Money `json:"engine_amount"`
	EngineOffset    Money `json:"engine_offset"`
	EngineToRecover Money `json:"engine_to_recover"`
}

// RiskVisitDays is how soon after a RISK flag Overpayment.AfterFlag assumes a visit.
const RiskVisitDays = 14

// LivingHarm counts living people whose payment was stopped. FalseDeath counts those a
// department reported dead (the platform must terminate them on arrival; a reviewer
// restores them) and Restored those of them not terminated on --to; Terminated counts
// living people terminated without such a record, which must not happen.
type LivingHarm struct {
	Suspended        int   `json:"suspended_people"`
	FalseDeath       int   `json:"false_death_people"`
	Restored         int   `json:"false_death_restored"`
	Terminated       int   `json:"terminated_people"`
	Conflict         int   `json:"conflict_people"`
	DaysToResumption Stats `json:"days_suspended"`
}

// PendingScore counts people with a PENDING decision in a month, by village and overall.
type PendingScore struct {
	PerVillageMonth Stats          `json:"per_village_month"`
	MonthlyShare    Stats          `json:"monthly_share"`
	Months          []MonthPending `json:"months"`
}

// MonthPending is one month's pending count.
type MonthPending struct {
	Month  string  `json:"month"`
	People int     `json:"people"`
	Living int     `json:"living"`
	Share  float64 `json:"share"`
}

// FraudScore measures 冒领 cases: deaths whose relatives kept using the cards.
type FraudScore struct {
	Cases   int   `json:"cases"`
	Flagged int   `json:"flagged_risk"`
	Stopped int   `json:"stopped"`
	Days    Stats `json:"days_death_to_stop"`
}

// Check is one pass/fail criterion of issue 4.
type Check struct {
	Name  string `json:"name"`
	Pass  bool   `json:"pass"`
	Value string `json:"value"`
}

type truthRow struct {
	village, movedTo string
	movedOn          silentcert.Date
	death            silentcert.Date
	firstReport      silentcert.Date
	mode             string
	fraud            bool
	prisonIn         silentcert.Date
	prisonOut        silentcert.Date
	falseDeath       silentcert.Date
}

func (t *truthRow) villageOn(d silentcert.Date) string {
	if t.movedOn != silentcert.NoDate && d >= t.movedOn && t.movedTo != "" {
		return t.movedTo
	}
	return t.village
}

func (t *truthRow) aliveOn(d silentcert.Date) bool {
	return t.death == silentcert.NoDate || d < t.death
}

// csvFile streams a CSV with a header, giving fields by name.
type csvFile struct {
	name string
	f    *os.File
	r    *csv.Reader
	col  map[string]int
	rec  []string
	line int
}

func openCSV(path string, need ...string) (*csvFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		f.Close()
		return nil, silentcert.Errorf(silentcert.EInvalid, "%s: no header: %v", path, err)
	}
	c := &csvFile{name: path, f: f, r: r, col: map[string]int{}, line: 1}
	for i, h := range head {
		c.col[strings.TrimPrefix(strings.ToLower(strings.TrimSpace(h)), "\ufeff")] = i
	}
	for _, n := range need {
		if _, ok := c.col[n]; !ok {
			f.Close()
			return nil, silentcert.Errorf(silentcert.EInvalid, "%s: no column %q", path, n)
		}
	}
	return c, nil
}

func (c *csvFile) next() (bool, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return false, nil
	}
	c.line++
	if err != nil {
		return false, silentcert.Errorf(silentcert.EInvalid, "%s line %d: %v", c.name, c.line, err)
	}
	c.rec = rec
	return true, nil
}

func (c *csvFile) get(name string) string {
	if i, ok := c.col[name]; ok && i < len(c.rec) {
		return c.rec[i]
	}
	return ""
}

func (c *csvFile) date(name string) (silentcert.Date, error) {
	s := c.get(name)
	if s == "" {
		return silentcert.NoDate, nil
	}
	d, ok := silentcert.ParseDateBytes([]byte(s))
	if !ok {
		return silentcert.NoDate, silentcert.Errorf(silentcert.EInvalid, "%s line %d: %s: %q is not a date", c.name, c.line, name, s)
	}
	return d, nil
}

func (c *csvFile) close() { c.f.Close() }

// eachRow calls fn for each row of the CSV at path, which must have the columns need,
// until the end or the first error.
func eachRow(path string, need []string, fn func(c *csvFile) error) error {
	c, err := openCSV(path, need...)
	if err != nil {
		return err
	}
	defer c.close()
	for {
		ok, err := c.next()
		if err != nil || !ok {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
}

// ReadScenario reads DIR/scenario.json.
func ReadScenario(dir string) (*Scenario, error) {
	data, err := os.ReadFile(filepath.Join(dir, "scenario.json"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, silentcert.Errorf(silentcert.EInvalid, "%s: %v", dir, ErrNotScenario)
		}
		return nil, err
	}
	var sc Scenario
	if err := json.Unmarshal(data, &sc); err != nil {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%s/scenario.json: %v", dir, err)
	}
	return &sc, nil
}

func detailValue(detail, key string) string {
	for _, kv := range strings.Split(detail, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// Evaluate scores the backtest output in result against the scenario in scenarioDir.
func Evaluate(scenarioDir, result string) (*Evaluation, error) {
	scn, err := ReadScenario(scenarioDir)
	if err != nil {
		return nil, err
	}
	from, err1 := silentcert.ParseDate(scn.From)
	to, err2 := silentcert.ParseDate(scn.To)
	if err1 != nil || err2 != nil || to < from {
		return nil, silentcert.Errorf(silentcert.EInvalid, "%s/scenario.json: bad from/to", scenarioDir)
	}
	ev := &Evaluation{Scenario: ScenarioRef{City: scn.City, CityName: scn.CityName, From: scn.From, To: scn.To, Seed: scn.Seed}}
	truth := map[string]*truthRow{}
	var ids []string
	villages := map[string]bool{}
	{
		c, err := openCSV(filepath.Join(scenarioDir, "truth.csv"), "person_id", "village_code", "death_date", "first_death_report", "fraud")
		if err != nil {
			return nil, err
		}
		for {
			ok, err := c.next()
			if err != nil {
				c.close()
				return nil, err
			}
			if !ok {
				break
			}
			t := &truthRow{village: c.get("village_code"), movedTo: c.get("moved_to"), mode: c.get("death_report"), fraud: c.get("fraud") == "1"}
			for _, f := range []struct {
				name string
				dst  *silentcert.Date
			}{{"moved_on", &t.movedOn}, {"death_date", &t.death}, {"first_death_report", &t.firstReport},
				{"prison_in", &t.prisonIn}, {"prison_out", &t.prisonOut}, {"false_death", &t.falseDeath}} {
				if *f.dst, err = c.date(f.name); err != nil {
					c.close()
					return nil, err
				}
			}
			id := c.get("person_id")
			truth[id] = t
			ids = append(ids, id)
			villages[t.village] = true
			if t.movedTo != "" {
				villages[t.movedTo] = true
			}
		}
		c.close()
	}
	sort.Strings(ids)
	ev.Recipients = len(ids)
	type personEval struct {
		terminated, suspendedAt, stoppedAt silentcert.Date
		risk, conflict, deadCert, lateCert bool
		flaggedDead                        silentcert.Date // the first RISK row on or after the death
		suspendedAlive                     bool
		resumed                            []silentcert.Date // RESUMED and RESTORED days of the dead: when back pay was released
	}
	pe := make(map[string]*personEval, len(ids))
	for _, id := range ids {
		pe[id] = &personEval{terminated: silentcert.NoDate, suspendedAt: silentcert.NoDate, stoppedAt: silentcert.NoDate, flaggedDead: silentcert.NoDate}
	}
	nMonths := int(to.Month()-from.Month()) + 1
	pendingSeen := map[string]silentcert.Month{} // person → last month counted
	pendVM := map[string][]int{}                 // village → per-month count
	pendMonth := make([]int, nMonths)
	var suspendedDays []float64
	{
		c, err := openCSV(filepath.Join(result, "decisions.csv"), "date", "person_id", "action", "detail")
		if err != nil {
			return nil, err
		}
		for {
			ok, err := c.next()
			if err != nil {
				c.close()
				return nil, err
			}
			if !ok {
				break
			}
			d, err := c.date("date")
			if err != nil {
				c.close()
				return nil, err
			}
			id := c.get("person_id")
			t, p := truth[id], pe[id]
			if t == nil {
				continue // not a scenario person: nothing to score
			}
			switch c.get("action") {
			case "CERTIFIED":
				if t.death == silentcert.NoDate || d <= t.death {
					break
				}
				on := silentcert.NoDate
				if v := detailValue(c.get("detail"), "certified_on"); v != "" {
					on, _ = silentcert.ParseDate(v)
				}
				if on == silentcert.NoDate || on > t.death {
					ev.DeadCertified.Rows++
					p.deadCert = true
				} else {
					ev.DeadCertified.LateRows++
					p.lateCert = true
				}
			case "TERMINATED":
				if p.terminated == silentcert.NoDate {
					p.terminated = d
				}
				if p.stoppedAt == silentcert.NoDate {
					p.stoppedAt = d
				}
			case "SUSPENDED":
				if t.aliveOn(d) {
					if !p.suspendedAlive {
						ev.Living.Suspended++
					}
					p.suspendedAlive = true
					if p.suspendedAt == silentcert.NoDate {
						p.suspendedAt = d
					}
				} else if p.stoppedAt == silentcert.NoDate {
					p.stoppedAt = d
				}
			case "RESUMED", "RESTORED":
				if t.death != silentcert.NoDate {
					p.resumed = append(p.resumed, d)
				}
				if c.get("action") == "RESTORED" {
					break
				}
				if p.suspendedAt != silentcert.NoDate {
					suspendedDays = append(suspendedDays, float64(d-p.suspendedAt))
					p.suspendedAt = silentcert.NoDate
				}
			case "PENDING":
				m := d.Month()
				if last, ok := pendingSeen[id]; ok && last == m {
					break
				}
				pendingSeen[id] = m
				mi := int(m - from.Month())
				if mi < 0 || mi >= nMonths {
					break
				}
				pendMonth[mi]++
				v := t.villageOn(d)
				row := pendVM[v]
				if row == nil {
					row = make([]int, nMonths)
					pendVM[v] = row
				}
				row[mi]++
			case "RISK":
				p.risk = true
				if t.death != silentcert.NoDate && d >= t.death && p.flaggedDead == silentcert.NoDate {
					p.flaggedDead = d
				}
			case "CONFLICT":
				p.conflict = true
			}
		}
		c.close()
	}
	for _, id := range ids {
		if p := pe[id]; p.suspendedAt != silentcert.NoDate {
			suspendedDays = append(suspendedDays, float64(to+1-p.suspendedAt))
		}
	}
	ev.Living.DaysToResumption = statsOf(suspendedDays)
	// Statuses on --to.
	status := map[string][2]string{}
	if err := eachRow(filepath.Join(result, "status.csv"), []string{"person_id", "status", "last_method"}, func(c *csvFile) error {
		status[c.get("person_id")] = [2]string{c.get("status"), c.get("last_method")}
		return nil
	}); err != nil {
		return nil, err
	}
	ev.Silent.ByMethod = map[string]int{}
	var termDays, unrepDays, fraudDays []float64
	for _, id := range ids {
		t, p := truth[id], pe[id]
		st := status[id]
		if t.death == silentcert.NoDate {
			ev.LivingOnTo++
			m := st[1]
			if m == "" {
				m = "NONE"
			}
			ev.Silent.ByMethod[m]++
			if m == "STRONG" || m == "WEAK" {
				ev.Silent.Silent++
			}
		} else {
			ev.Deaths++
			if p.terminated != silentcert.NoDate {
				ev.Termination.Terminated++
				termDays = append(termDays, float64(p.terminated-t.death))
			} else {
				ev.Termination.NotTerminated++
			}
			if t.firstReport != silentcert.NoDate {
				ev.Termination.Reported++
				switch {
				case p.conflict:
					ev.Termination.Conflict++
				case p.terminated != silentcert.NoDate && p.terminated <= t.firstReport:
					ev.Termination.OnArrival++
				default:
					ev.Termination.Late++
				}
			} else {
				ev.UnreportedDeaths.N++
				if p.stoppedAt != silentcert.NoDate {
					ev.UnreportedDeaths.Stopped++
					unrepDays = append(unrepDays, float64(p.stoppedAt-t.death))
				}
			}
			if t.fraud {
				ev.Fraud.Cases++
				if p.risk {
					ev.Fraud.Flagged++
				}
				if p.stoppedAt != silentcert.NoDate {
					ev.Fraud.Stopped++
					fraudDays = append(fraudDays, float64(p.stoppedAt-t.death))
				}
			}
		}
		if p.deadCert {
			ev.DeadCertified.People++
		}
		if p.lateCert {
			ev.DeadCertified.LatePeople++
		}
		if t.falseDeath != silentcert.NoDate {
			ev.Living.FalseDeath++
			if s := st[0]; s != "TERMINATED" && s != "CONFLICT" && s != "" {
				ev.Living.Restored++
			}
		} else {
			if p.terminated != silentcert.NoDate && t.aliveOn(p.terminated) {
				ev.Living.Terminated++
			}
			if p.conflict && t.death == silentcert.NoDate {
				ev.Living.Conflict++
			}
		}
	}
	if ev.LivingOnTo > 0 {
		ev.Silent.Share = round4(float64(ev.Silent.Silent) / float64(ev.LivingOnTo))
	}
	ev.Silent.Living = ev.LivingOnTo
	ev.Termination.Days = statsOf(termDays)
	ev.UnreportedDeaths.Days = statsOf(unrepDays)
	ev.Fraud.Days = statsOf(fraudDays)
	// Pending: every village with recipients, every month, zeros included.
	var perVM []float64
	vs := make([]string, 0, len(villages))
	for v := range villages {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	for _, v := range vs {
		row := pendVM[v]
		for m := 0; m < nMonths; m++ {
			n := 0
			if row != nil {
				n = row[m]
			}
			perVM = append(perVM, float64(n))
		}
	}
	ev.Pending.PerVillageMonth = statsOf(perVM)
	var shares []float64
	for m := 0; m < nMonths; m++ {
		mon := from.Month() + silentcert.Month(m)
		first := mon.First()
		if first < from {
			first = from
		}
		living := 0
		for _, id := range ids {
			if truth[id].aliveOn(first) {
				living++
			}
		}
		mp := MonthPending{Month: mon.String(), People: pendMonth[m], Living: living}
		if living > 0 {
			mp.Share = round4(float64(mp.People) / float64(living))
		}
		shares = append(shares, mp.Share)
		ev.Pending.Months = append(ev.Pending.Months, mp)
	}
	ev.Pending.MonthlyShare = statsOf(shares)
	released := map[string][]silentcert.Date{}
	flagged := map[string]silentcert.Date{}
	for id, p := range pe {
		if len(p.resumed) > 0 {
			released[id] = p.resumed
		}
		if p.flaggedDead != silentcert.NoDate {
			flagged[id] = p.flaggedDead
		}
	}
	if err := ev.scorePayments(result, truth, released, flagged); err != nil {
		return nil, err
	}
	ev.Checks = []Check{
		{Name: "no CERTIFIED row for a dead person after death", Pass: ev.DeadCertified.Rows == 0, Value: strconv.Itoa(ev.DeadCertified.Rows)},
		{Name: "every reported, non-conflicting death terminated on arrival", Pass: ev.Termination.Late == 0,
			Value: fmt.Sprintf("%d/%d", ev.Termination.OnArrival, ev.Termination.Reported-ev.Termination.Conflict)},
		{Name: "silent share >= 0.90", Pass: ev.Silent.Share >= 0.90, Value: strconv.FormatFloat(ev.Silent.Share, 'f', 4, 64)},
		{Name: "pending < 2% of recipients every month", Pass: ev.Pending.MonthlyShare.Max < 0.02,
			Value: strconv.FormatFloat(ev.Pending.MonthlyShare.Max, 'f', 4, 64)},
		{Name: "no living person terminated but on a department's death record", Pass: ev.Living.Terminated == 0, Value: strconv.Itoa(ev.Living.Terminated)},
	}
	if ev.Models, err = EvaluateModels(scenarioDir, result, from, to); err != nil {
		return nil, err
	}
	return ev, nil
}

// scorePayments reads payroll.csv and overpayments.csv. A regular payment for month M was
// released by the payroll of M's first day; back pay for M by the first payroll on or
// after the first resumption (RESUMED or RESTORED) after M's own payroll. flagged holds
// each dead person's first RISK row after the death.
func (ev *Evaluation) scorePayments(result string, truth map[string]*truthRow, resumed map[string][]silentcert.Date, flagged map[string]silentcert.Date) error {
	c, err := openCSV(filepath.Join(result, "payroll.csv"), "month", "person_id", "amount", "kind")
	if err != nil {
		return err
	}
	for {
		ok, err := c.next()
		if err != nil {
			c.close()
			return err
		}
		if !ok {
			break
		}
		t := truth[c.get("person_id")]
		if t == nil || t.death == silentcert.NoDate {
			continue
		}
		m, ok1 := silentcert.ParseMonthBytes([]byte(c.get("month")))
		amt, ok2 := silentcert.ParseYuanBytes([]byte(c.get("amount")))
		if !ok1 || !ok2 {
			c.close()
			return silentcert.Errorf(silentcert.EInvalid, "%s line %d: bad month or amount", c.name, c.line)
		}
		if m <= t.death.Month() {
			continue
		}
		a := Money(amt)
		ev.Overpayment.AfterDeath += a
		release := m.First()
		if c.get("kind") != "REGULAR" {
			release = silentcert.NoDate
			for _, d := range resumed[c.get("person_id")] {
				if d >= m.First() {
					release = d
					if release.Day() != 1 {
						release = release.Month().First().AddMonths(1)
					}
					break
				}
			}
		}
		switch {
		case release == silentcert.NoDate || (t.firstReport != silentcert.NoDate && release >= t.firstReport):
			ev.Overpayment.Avoidable += a
		default:
			ev.Overpayment.BeforeReport += a
			if t.firstReport == silentcert.NoDate {
				ev.Overpayment.NeverReported += a
			}
			if f, ok := flagged[c.get("person_id")]; ok && release >= f+RiskVisitDays {
				ev.Overpayment.AfterFlag += a
			}
		}
	}
	c.close()
	return eachRow(filepath.Join(result, "overpayments.csv"), []string{"amount", "offset", "to_recover"}, func(c *csvFile) error {
		for _, f := range []struct {
			name string
			dst  *Money
		}{{"amount", &ev.Overpayment.EngineAmount}, {"offset", &ev.Overpayment.EngineOffset}, {"to_recover", &ev.Overpayment.EngineToRecover}} {
			v, ok := silentcert.ParseYuanBytes([]byte(c.get(f.name)))
			if !ok {
				return silentcert.Errorf(silentcert.EInvalid, "%s line %d: %s: bad amount", c.name, c.line, f.name)
			}
			*f.dst += Money(v)
		}
		return nil
	})
}

// Passed reports whether every check passed.
func (ev *Evaluation) Passed() bool {
	for _, c := range ev.Checks {
		if !c.Pass {
			return false
		}
	}
	return true
}

// rows returns the evaluation's figures as (name, value) pairs, for the table and the page.
func (ev *Evaluation) rows() [][2]string {
	var out [][2]string
	row := func(k, v string) { out = append(out, [2]string{k, v}) }
	row("recipients", strconv.Itoa(ev.Recipients))
	row("living on --to / deaths in the window", fmt.Sprintf("%d / %d", ev.LivingOnTo, ev.Deaths))
	row("silent share (latest method STRONG or WEAK)", fmt.Sprintf("%.4f (%d of %d)", ev.Silent.Share, ev.Silent.Silent, ev.Silent.Living))
	var ms []string
	for _, m := range sortedKeys(ev.Silent.ByMethod) {
		ms = append(ms, fmt.Sprintf("%s %d", m, ev.Silent.ByMethod[m]))
	}
	row("  by latest method", strings.Join(ms, ", "))
	row("dead people certified after death (must be 0)", fmt.Sprintf("%d rows, %d people", ev.DeadCertified.Rows, ev.DeadCertified.People))
	row("  info: late records of the last days", fmt.Sprintf("%d rows, %d people", ev.DeadCertified.LateRows, ev.DeadCertified.LatePeople))
	row("deaths terminated / not terminated by --to", fmt.Sprintf("%d / %d", ev.Termination.Terminated, ev.Termination.NotTerminated))
	row("days from death to termination (median, p95, max)", fmt.Sprintf("%g, %g, %g", ev.Termination.Days.Median, ev.Termination.Days.P95, ev.Termination.Days.Max))
	row("reported deaths terminated on arrival", fmt.Sprintf("%d of %d (late %d, conflict %d)", ev.Termination.OnArrival, ev.Termination.Reported, ev.Termination.Late, ev.Termination.Conflict))
	row("unreported deaths stopped; days to stop (median, p95)", fmt.Sprintf("%d of %d; %g, %g", ev.UnreportedDeaths.Stopped, ev.UnreportedDeaths.N, ev.UnreportedDeaths.Days.Median, ev.UnreportedDeaths.Days.P95))
	row("paid for months after death (yuan)", ev.Overpayment.AfterDeath.String())
	row("  avoidable (after a death record arrived)", ev.Overpayment.Avoidable.String())
	row("  before any report / never reported", ev.Overpayment.BeforeReport.String()+" / "+ev.Overpayment.NeverReported.String())
	row(fmt.Sprintf("  of it, released %d days or more after a RISK flag", RiskVisitDays), ev.Overpayment.AfterFlag.String())
	row("  engine: overpaid, offset, to recover", ev.Overpayment.EngineAmount.String()+", "+ev.Overpayment.EngineOffset.String()+", "+ev.Overpayment.EngineToRecover.String())
	row("living people suspended (days suspended median, p95)", fmt.Sprintf("%d (%g, %g)", ev.Living.Suspended, ev.Living.DaysToResumption.Median, ev.Living.DaysToResumption.P95))
	row("living people terminated / in conflict", fmt.Sprintf("%d / %d", ev.Living.Terminated, ev.Living.Conflict))
	row("living people reported dead by a department / restored", fmt.Sprintf("%d / %d", ev.Living.FalseDeath, ev.Living.Restored))
	row("pending per village-month (median, p95, max)", fmt.Sprintf("%g, %g, %g", ev.Pending.PerVillageMonth.Median, ev.Pending.PerVillageMonth.P95, ev.Pending.PerVillageMonth.Max))
	row("pending share of living recipients a month (mean, max)", fmt.Sprintf("%.4f, %.4f", ev.Pending.MonthlyShare.Mean, ev.Pending.MonthlyShare.Max))
	row("fraud cases flagged (RISK) / stopped", fmt.Sprintf("%d / %d of %d (days to stop median %g)", ev.Fraud.Flagged, ev.Fraud.Stopped, ev.Fraud.Cases, ev.Fraud.Days.Median))
	if m := ev.Models; m != nil {
		su := m.SilentUnasked
		row("models: silent share, answers no reminder asked for set aside", fmt.Sprintf("%.4f (%d + %d unasked of %d; asked %d, unasked but data short %d, migrated %d)",
			su.Share, su.Silent, su.Unasked, su.Living, su.Asked, su.Uncover, su.Migrated))
		for _, n := range m.Notes {
			row("models: note", n)
		}
		row("models: trace score AUC (dead vs alive at a clock-sampled trace of the window)", fmt.Sprintf("%.4f (%d traces, %d after the death of %d people; %d other rows set aside)",
			m.TraceAUC, m.TraceN, m.TraceDead, m.TraceDeadPeople, m.TraceSetAside))
		for _, c := range m.Calibration {
			row(fmt.Sprintf("models: calibration, P(alive) %g–%g", c.Lo, c.Hi), fmt.Sprintf("%d traces, predicted alive %s, observed %s; deaths expected %.2f, observed %d",
				c.N, fmtShare(c.Predicted), fmtShare(c.Observed), c.ExpectedDead, c.ObservedDead))
		}
		if m.CardUseKnown {
			row("models: hidden deaths with card/bank/phone use flagged within 90 days", fmt.Sprintf("%d of %d (%.4f); days to flag median %g", m.HiddenUseFlagged90, m.HiddenUse, m.HiddenUseRecall, m.HiddenUseFlagDays.Median))
		} else {
			row("models: hidden deaths with card/bank/phone use flagged within 90 days", "not known (truth.csv has no card_use_reported)")
		}
		row("models: hidden fraud deaths flagged within 90 days", fmt.Sprintf("%d of %d (%.4f); days to flag median %g", m.HiddenFlagged90, m.Hidden, m.HiddenRecall, m.FlagDays.Median))
		if m.CardUseKnown {
			row("models: of them, card/bank/phone use reported within 90 days, flagged", fmt.Sprintf("%d of %d (%.4f)", m.HiddenCardUseFlagged, m.HiddenCardUse, m.HiddenCardUseRecall))
		}
		row("models: living recipients on the roll on 1 January flagged RISK that year (max)", fmt.Sprintf("%.4f (%d RISK rows)", m.LivingFlaggedYear, m.RiskRows))
		if len(m.FoundAtShare) > 0 {
			var parts []string
			for _, f := range m.FoundAtShare {
				parts = append(parts, fmt.Sprintf("%g%%: %d/%d", f.Share*100, f.Found, f.Of))
			}
			row("models: hidden deaths found ≤ 90 d if this share of the living were flagged", strings.Join(parts, ", "))
		}
		var pk []string
		for _, p := range m.PrecisionAtK {
			pk = append(pk, fmt.Sprintf("@%d %.2f", p.K, p.Precision))
		}
		row("models: risk list precision at k", strings.Join(pk, ", "))
		row("models: health index top decile / average death rate (lift, AUC)", fmt.Sprintf("%.4f / %.4f (%.2f, %.4f)", m.HealthTopDecileRate, m.HealthAverageRate, m.HealthLift, m.HealthAUC))
	}
	return out
}

// Table returns the evaluation as a text table for the terminal.
func (ev *Evaluation) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "evaluation of %s %s, %s to %s (seed %d)\n", ev.Scenario.City, ev.Scenario.CityName, ev.Scenario.From, ev.Scenario.To, ev.Scenario.Seed)
	for _, r := range ev.rows() {
		fmt.Fprintf(&b, "%-56s %s\n", r[0], r[1])
	}
	b.WriteString("\nchecks:\n")
	for _, c := range ev.Checks {
		mark := "PASS"
		if !c.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s  %-60s %s\n", mark, c.Name, c.Value)
	}
	return b.String()
}

// WriteFiles writes evaluation.json and evaluation.html into dir.
func (ev *Evaluation) WriteFiles(dir string) error {
	data, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "evaluation.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "evaluation.html"), ev.HTML(), 0o644)
}
