// Package service runs the platform every day: it ingests department batches into the
// store, applies them to each person's state through the engine (the same engine as
// backtest, unchanged), evaluates every day, runs the monthly payroll, and writes every
// decision and action to the hash-chained audit trail. A batch or a day's run is one
// transaction: after a crash, a restart finds either all of it or none of it.
//
// The service keeps every person's state in memory, loaded from the store at start (one
// person's state is a few hundred bytes), and writes back the people each transaction
// touched; the store is the truth, memory a cache of it. Writers take turns (one mutex in
// the process, the store's lock between transactions), and one process at a time holds
// the states: Open claims the database as its writer until it is closed
// (store.DB.ClaimWriter), so that no process writes a stale copy over another's batch.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/backtest"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/linkage"
	"github.com/silentcert/silentcert/store"
)

// Options configure a Service.
type Options struct {
	Config   *sc.Config     // nil: the built-in defaults
	Location *time.Location // the agency's time zone (default Asia/Shanghai)
	Log      *slog.Logger
	// ResolveRegion resolves a roster row's hukou_address when it has no region_code.
	ResolveRegion func(address string) (string, bool)
	// Now is the wall clock; tests and replay pass their own.
	Now func() time.Time
	// Hooks, called inside the transaction of the change they follow (notices).
	OnDecision func(tx *store.Tx, p *Person, d engine.Decision) error
	// Fault, when set, is called at points inside a transaction ("ingest" after each record
	// stored, "run" after each person evaluated, "commit" just before each commit, with 0)
	// with a count: the crash tests kill the process there.
	Fault func(point string, n int)
	// Model is the evidence model (nil: the baseline weak rule, no RISK rows). One that
	// asks (backtest.DeliveryAware) is told the days each record type was delivered, as
	// the batches come, and one that asks (backtest.CoverageAware) each type's coverage.
	Model engine.Model
	// NoSummary skips the console's summaries in daily runs (replay rebuilds them once at
	// the end instead of every day).
	NoSummary bool
	// Build names the running program in the audit trail (BuildIdentity by default).
	Build string
	// ReadOnly opens the service to read (a payroll file while serve runs): it does not
	// claim the database as its writer, and every change it is asked for is refused.
	ReadOnly bool
}

// Person is one recipient as the service holds them.
type Person struct {
	PID       int64
	Rec       *sc.Recipient
	State     engine.State
	NextCheck sc.Date
	Baselined bool
	Health    int // the health index as last written, in thousandths (-1: not scored)
	// RosterRegion is the region_code the roster gave, which linkage narrows by (spec §3);
	// Rec.RegionCode follows the person's moves.
	RosterRegion string
}

// HealthScorer is an evidence model that also gives a person's health index (健康指数):
// the service writes it beside the status, for worklists and the planning of visits.
type HealthScorer interface {
	Health(r *sc.Recipient, s *engine.State, d sc.Date) float64
}

// Service is the running platform over one store.
type Service struct {
	db   *store.DB
	opt  Options
	cfg  *sc.Config
	eng  *engine.Engine
	cat  *sc.Catalogue
	log  *slog.Logger
	loc  *time.Location
	mu   sync.Mutex // writers take turns; readers of people take it too (the recovery reads read pub)
	ppl  []*Person  // by pid
	byID map[string]int64
	ix   *linkage.Index
	ixOf []int64 // linkage index position → pid
	// deliveries, when the model asks, and the days each type was delivered so far.
	deliveries backtest.DeliveryAware
	health     HealthScorer // the model's health index, when it gives one
	delivered  [][]sc.Date
	cover      *coverage                  // the records' coverage, when the model asks (nil: it does not)
	broken     atomic.Pointer[error]      // a commit of unknown outcome: no more writes (commit)
	pub        atomic.Pointer[caseInputs] // what the last commit left of the people, for the recovery reads (publish)
	metrics    Metrics
}

// noteDeliveries records the days on which the batch's rows delivered each record type,
// duplicates included (a delivery is a row read, as backtest counts it): in the store at
// the commit, and at once for a model that asks (it must know a department delivered on
// the day it judges). A batch that fails takes its days back from the model.
func (s *Service) noteDeliveries(tx *store.Tx, ch *change, rows []*Row) {
	type typeDay struct {
		t sc.TypeID
		d sc.Date
	}
	seen := map[typeDay]bool{}
	var pairs []typeDay
	last := typeDay{d: sc.NoDate}
	for _, r := range rows {
		if k := (typeDay{r.Type, r.ReportedDate}); k != last && !seen[k] {
			seen[k] = true
			pairs = append(pairs, k)
			last = k
		}
	}
	var added []typeDay
	for _, k := range pairs {
		tx.Delivered(s.cat.Type(k.t).Code, k.d)
		if s.deliveries == nil {
			continue
		}
		ds := s.delivered[k.t]
		if j, found := slices.BinarySearch(ds, k.d); !found {
			s.delivered[k.t] = slices.Insert(ds, j, k.d)
			added = append(added, k)
		}
	}
	if len(added) == 0 {
		return
	}
	ch.undos = append(ch.undos, func() {
		for _, k := range added {
			if j, found := slices.BinarySearch(s.delivered[k.t], k.d); found {
				s.delivered[k.t] = slices.Delete(s.delivered[k.t], j, j+1)
			}
		}
		s.deliveries.SetDeliveries(s.delivered)
	})
	s.deliveries.SetDeliveries(s.delivered)
}

// Open loads the people and their states from db.
func Open(ctx context.Context, db *store.DB, opt Options) (*Service, error) {
	if opt.Config == nil {
		opt.Config = sc.DefaultConfig()
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Location == nil {
		opt.Location = chinaTime()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	// The states are held in memory from here: no other process may change them meanwhile.
	if !opt.ReadOnly {
		if err := db.ClaimWriter(ctx); err != nil {
			return nil, err
		}
	}
	s := &Service{db: db, opt: opt, cfg: opt.Config, eng: engine.New(opt.Config), cat: opt.Config.Catalogue,
		log: opt.Log, loc: opt.Location, byID: map[string]int64{}}
	if opt.Model != nil {
		s.eng = s.eng.WithModel(opt.Model)
		s.health, _ = opt.Model.(HealthScorer)
		if da, ok := opt.Model.(backtest.DeliveryAware); ok {
			s.deliveries = da
			s.delivered = make([][]sc.Date, s.cat.Len())
			err := db.DeliveryDays(ctx, func(typ string, d sc.Date) {
				if id, ok := s.cat.Lookup(typ); ok {
					s.delivered[id] = append(s.delivered[id], d)
				}
			})
			if err != nil {
				return nil, err
			}
			da.SetDeliveries(s.delivered)
		}
		if ca, ok := wantsCoverage(opt.Model); ok {
			if err := s.openCoverage(ctx, ca); err != nil {
				return nil, err
			}
		}
	}
	err := db.LoadPeople(ctx, func(sp *store.Person) error {
		p, err := s.fromStore(sp)
		if err != nil {
			return err
		}
		if p.PID != int64(len(s.ppl)) {
			return fmt.Errorf("%s: people are not numbered 0…n-1 (pid %d at %d)", db, p.PID, len(s.ppl))
		}
		s.ppl = append(s.ppl, p)
		s.byID[p.Rec.PersonID] = p.PID
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.reindex()
	s.publish(nil)
	return s, nil
}

// ModelNone is the model identity of the baseline weak rule (no evidence model).
const ModelNone = "none"

// identified is a model that names its parameters (models.Model).
type identified interface {
	Identity() (id, trained string)
}

// modelIdentity returns the identity of the service's model and what it was trained on.
func (s *Service) modelIdentity() (string, string) {
	switch m := s.opt.Model.(type) {
	case nil:
		return ModelNone, ""
	case identified:
		return m.Identity()
	default:
		return fmt.Sprintf("%T", m), ""
	}
}

// CheckModel makes sure that the database's decisions keep coming from one evidence model:
// the first time, it records the service's (meta "model", and an audit row); later, a
// service under another model is refused unless change gives the reason for the switch,
// which is then written to the audit trail with both identities and who made it. Commands
// that make decisions call it before the first; readers need not. It also notes the
// running program (noteBuild), so that the trail says which code decided from when on.
func (s *Service) CheckModel(ctx context.Context, change, actor string) error {
	if err := s.noteBuild(ctx, actor); err != nil {
		return err
	}
	id, trained := s.modelIdentity()
	stored, ok, err := s.db.Meta(ctx, "model")
	if err != nil {
		return err
	}
	if ok && stored == id {
		return nil
	}
	detail := "to=" + id
	switch {
	case !ok:
		detail += ";first=1"
	case change == "":
		return sc.Errorf(sc.EConflict, "%s: its decisions come from evidence model %s; this run's is %s (%s): give the same --model, or --model-change REASON to switch (written to the audit trail)",
			s.db, stored, id, orNone(trained))
	default:
		detail = "from=" + stored + ";" + detail + ";reason=" + store.DetailValue(change)
	}
	if trained != "" {
		detail += ";trained=" + store.DetailValue(trained)
	}
	return s.setNoted(ctx, "model", id, actor, detail)
}

// setNoted sets meta key to value with the audit row of kind key that says so (action
// "set", detail), in one transaction: what decides (the model, the program) and its trail
// never part.
func (s *Service) setNoted(ctx context.Context, key, value, actor, detail string) error {
	return s.setMeta(ctx, key, value, store.AuditRow{Kind: key, Day: s.Today(), At: s.wallTime(), Actor: actor, PID: -1,
		Action: "set", Detail: detail})
}

func orNone(s string) string {
	if s == "" {
		return "no training named"
	}
	return s
}

// DB returns the store.
func (s *Service) DB() *store.DB { return s.db }

// Config returns the configuration.
func (s *Service) Config() *sc.Config { return s.cfg }

// Engine returns the engine.
func (s *Service) Engine() *engine.Engine { return s.eng }

// Location returns the agency's time zone.
func (s *Service) Location() *time.Location { return s.loc }

// Today returns the agency's current day.
func (s *Service) Today() sc.Date { return dayOf(s.opt.Now().In(s.loc)) }

// DayAt returns the agency's day at now: its date in loc, or in China time (the default
// Options.Location) when loc is nil. It is Today for a command that has not opened the
// service yet (a --day to check before every person is loaded).
func DayAt(now time.Time, loc *time.Location) sc.Date {
	if loc == nil {
		loc = chinaTime()
	}
	return dayOf(now.In(loc))
}

// chinaTime is Asia/Shanghai, the agency's time zone by default.
func chinaTime() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600) // no tzdata on the machine: China has one offset, no DST
	}
	return loc
}

func dayOf(t time.Time) sc.Date {
	y, m, d := t.Date()
	return sc.MakeDate(y, int(m), d)
}

// wallTime is the wall clock as the audit trail writes it.
func (s *Service) wallTime() string { return s.opt.Now().In(s.loc).Format(time.RFC3339) }

// People returns how many recipients the service holds.
func (s *Service) People() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ppl)
}

// reindex rebuilds the linkage index after people were added or changed. It indexes the
// roster's region of each person, not where they moved since: what a record links to must
// not depend on when the service last started (backtest links by the roster's).
func (s *Service) reindex() { s.ix, s.ixOf = indexOf(s.ppl) }

// indexOf builds the linkage index of ppl (PIDs 0…len-1) and the PID of each of its
// positions; a moved person is found by the roster's region.
func indexOf(ppl []*Person) (*linkage.Index, []int64) {
	recs := make([]*sc.Recipient, len(ppl))
	order := make([]int64, len(ppl))
	for i := range ppl {
		order[i] = int64(i)
	}
	// linkage wants people in person_id order.
	sort.Slice(order, func(a, b int) bool { return ppl[order[a]].Rec.PersonID < ppl[order[b]].Rec.PersonID })
	for i, pid := range order {
		p := ppl[pid]
		recs[i] = p.Rec
		if p.RosterRegion != p.Rec.RegionCode {
			r := *p.Rec // a moved person: a copy with the roster's region (few people)
			r.RegionCode = p.RosterRegion
			recs[i] = &r
		}
	}
	return linkage.New(recs), order
}

func (s *Service) fromStore(sp *store.Person) (*Person, error) {
	p := &Person{PID: sp.PID, NextCheck: sp.NextCheck, Baselined: sp.Baselined, Health: sp.Health, RosterRegion: sp.RosterRegion}
	rec := sp.Rec
	p.Rec = &rec
	if err := decodeState(sp.State, &p.State); err != nil {
		return nil, fmt.Errorf("person %d (%s): state: %w", sp.PID, idcard.Mask(rec.PersonID), err)
	}
	if len(p.State.Ents) != len(rec.Entitlements) {
		return nil, fmt.Errorf("person %d: %d entitlement states for %d entitlements", sp.PID, len(p.State.Ents), len(rec.Entitlements))
	}
	s.eng.Derive(&p.State)
	return p, nil
}

func (s *Service) toStore(p *Person) (*store.Person, error) {
	b, err := encodeState(&p.State)
	if err != nil {
		return nil, err
	}
	st := &p.State
	return &store.Person{PID: p.PID, Rec: *p.Rec, RosterRegion: p.RosterRegion, Status: st.Status, Until: st.Until, Method: st.LastMethod,
		DeathDate: st.DeathDate, NextCheck: p.NextCheck, Baselined: p.Baselined, Health: p.Health, State: b}, nil
}

// HealthStep is how far, in thousandths, a person's health index moves before it is
// written on its own (see change.take): the stored index is within it of the model's.
const HealthStep = 5

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// healthOf returns the person's health index in thousandths as of the latest record the
// model saw of them (so that it moves when their records do, not with the day it is
// written), or -1 without a model that gives one or before it has seen the person.
func (s *Service) healthOf(p *Person) int {
	ev := p.State.Evidence
	if s.health == nil || ev == nil || ev.Seen == sc.NoDate {
		return -1
	}
	return int(math.Round(1000 * s.health.Health(p.Rec, &p.State, ev.Seen)))
}

// snapshot keeps what a transaction may change of a person, to put back if it fails,
// and what was last written of them, to write only what moved.
type snapshot struct {
	p         *Person
	state     engine.State
	region    string
	next      sc.Date
	baselined bool
	health    int
	stored    stored
}

// stored is the part of a person's row that the console's indexes cover.
type stored struct {
	status, method sc.Status
	until, death   sc.Date
	region         string
	health         int
}

func storedOf(p *Person) stored {
	return stored{status: p.State.Status, method: sc.Status(p.State.LastMethod), until: p.State.Until,
		death: p.State.DeathDate, region: p.Rec.RegionCode, health: p.Health}
}

// cloneState copies a state deeply: the engine changes its slices in place.
func cloneState(st *engine.State) engine.State {
	c := *st
	c.Weak = slices.Clone(st.Weak)
	c.Ents = make([]engine.EntState, len(st.Ents))
	for i, e := range st.Ents {
		c.Ents[i] = engine.EntState{Regular: slices.Clone(e.Regular), Back: slices.Clone(e.Back)}
	}
	if st.Rare != nil {
		r := *st.Rare
		r.Deaths, r.Losses = slices.Clone(r.Deaths), slices.Clone(r.Losses)
		r.Held, r.Due, r.AfterDeath = slices.Clone(r.Held), slices.Clone(r.Due), slices.Clone(r.AfterDeath)
		r.DeathUnpaid = slices.Clone(r.DeathUnpaid)
		if r.Conflict != nil {
			cf := *r.Conflict
			cf.Losses = slices.Clone(cf.Losses)
			r.Conflict = &cf
		}
		c.Rare = &r
	}
	if st.Evidence != nil {
		ev := *st.Evidence
		ev.Recent, ev.Types, ev.Places = slices.Clone(ev.Recent), slices.Clone(ev.Types), slices.Clone(ev.Places)
		ev.Moves = slices.Clone(ev.Moves) // noteMove edits it in place
		c.Evidence = &ev
	}
	return c
}

// change tracks the people one transaction touches: their values before it, for undo,
// and those touched since the last write (a transaction may write several times: a batch
// and a day's run, or several days of a replay).
type change struct {
	s     *Service
	snaps map[int64]*snapshot
	dirty map[int64]bool
	order []int64 // dirty, in the order touched
	// unsorted tells that order is not in ascending pids.
	unsorted bool
	// undos are called when the transaction fails, after the people are put back.
	undos []func()
	// hold defers writes to the end of the transaction (replay's groups of days: a person
	// changed on several days is written once).
	hold bool
}

func (s *Service) newChange() *change {
	return &change{s: s, snaps: map[int64]*snapshot{}, dirty: map[int64]bool{}}
}

// reserve makes room for n people touched, when a transaction is about to touch everyone.
func (c *change) reserve(n int) {
	if len(c.snaps) == 0 {
		c.snaps = make(map[int64]*snapshot, n)
	}
	if len(c.dirty) == 0 {
		c.dirty = make(map[int64]bool, n)
		c.order = make([]int64, 0, n)
	}
}

// touch records a person's values before the transaction changes them, and marks them
// to be written.
func (c *change) touch(p *Person) {
	if _, ok := c.snaps[p.PID]; !ok {
		c.snaps[p.PID] = &snapshot{p: p, state: cloneState(&p.State), region: p.Rec.RegionCode, next: p.NextCheck,
			baselined: p.Baselined, health: p.Health, stored: storedOf(p)}
	}
	if !c.dirty[p.PID] {
		c.dirty[p.PID] = true
		if n := len(c.order); n > 0 && c.order[n-1] > p.PID {
			c.unsorted = true
		}
		c.order = append(c.order, p.PID)
	}
}

// write runs fn in one transaction and commits it; when anything fails, the people fn
// changed in memory are put back as the database still has them. The caller holds s.mu.
func (s *Service) write(ctx context.Context, fn func(tx *store.Tx, ch *change) error) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ch := s.newChange()
	if err = fn(tx, ch); err == nil {
		err = s.commit(tx)
	}
	if err != nil {
		ch.undo()
		return err
	}
	s.publish(maps.Keys(ch.snaps))
	return nil
}

// begin starts a write transaction; a read-only service refuses, and so does one whose
// memory may no longer be the store's (commit): unavailable, since the process is to be
// restarted (serve exits) and the same change then goes through.
func (s *Service) begin(ctx context.Context) (*store.Tx, error) {
	if s.opt.ReadOnly {
		return nil, sc.Errorf(sc.EConflict, "%s: opened to read only: this command changes nothing", s.db)
	}
	if err := s.Broken(); err != nil {
		return nil, sc.Errorf(sc.EUnavailable, "%s: the service stopped writing after a commit of unknown outcome (%v): restart it to read the people again from the database", s.db, err)
	}
	return s.db.Begin(ctx)
}

// Broken returns why the service stopped writing (a commit of unknown outcome), or nil.
func (s *Service) Broken() error {
	if err := s.broken.Load(); err != nil {
		return *err
	}
	return nil
}

// commit commits tx. When the outcome is unknown (store.ErrCommitOutcome) the people in
// memory may differ from the store's either way, and writing them back later could undo
// what was stored (a death): the service then refuses every write until it is restarted
// and reads them again (serve exits for its supervisor to restart it; Broken). Rare (a
// connection lost during COMMIT, a disk full for a moment), and loud.
func (s *Service) commit(tx *store.Tx) error {
	// Payments written and not yet covered (a batch's or a roster's back pay) get their
	// audit row on the service's clock, as every row it writes; the store's own at Commit
	// is for callers without one.
	if err := tx.SealPayments(s.Today(), s.wallTime(), "system"); err != nil {
		return err
	}
	if s.opt.Fault != nil {
		s.opt.Fault("commit", 0)
	}
	err := tx.Commit()
	if errors.Is(err, store.ErrCommitOutcome) {
		s.broken.CompareAndSwap(nil, &err)
		s.log.Error("a commit's outcome is unknown: the service writes nothing more until it is restarted", "error", err)
		return sc.Errorf(sc.EUnavailable, "%w: the service must be restarted to read the database again", err)
	}
	return err
}

// write writes every person touched since the last write, in pid order: their state, and
// their region when they moved; when held, it waits for writeHeld.
func (c *change) write(tx *store.Tx) error {
	if c.hold {
		return nil
	}
	return c.writeHeld(tx)
}

// writeHeld writes what write held back.
func (c *change) writeHeld(tx *store.Tx) error {
	chunk := tx.StatesChunk()
	for len(c.order) > 0 {
		ps, moves, err := c.take(chunk)
		if err != nil {
			return err
		}
		if err := putPeople(tx, ps, moves); err != nil {
			return err
		}
	}
	return nil
}

// move is a person's new region.
type move struct {
	pid    int64
	region string
}

// take encodes up to n of the people touched since the last write, the lowest pids first,
// as the store writes them, and marks them written: their state, and their region when
// they moved.
func (c *change) take(n int) ([]*store.Person, []move, error) {
	if c.unsorted {
		slices.Sort(c.order)
		c.unsorted = false
	}
	n = min(n, len(c.order))
	ps := make([]*store.Person, 0, n)
	var moves []move
	for _, pid := range c.order[:n] {
		sn := c.snaps[pid]
		was := sn.stored
		now := storedOf(sn.p)
		unmoved := now.status == was.status && now.method == was.method && now.until == was.until && now.death == was.death
		// The health index is written with a status that moved; alone, only once it has
		// moved by HealthStep (it moves a little with nearly every record, and on
		// PostgreSQL each row written anew is a new entry in every index of people).
		if h := c.s.healthOf(sn.p); !unmoved || sn.p.Health < 0 || h < 0 || abs(h-sn.p.Health) >= HealthStep {
			sn.p.Health = h
		}
		now.health = sn.p.Health
		sp, err := c.s.toStore(sn.p)
		if err != nil {
			return nil, nil, err
		}
		sp.Unmoved = unmoved
		sp.HealthMoved = now.health != was.health
		if now.region != was.region {
			moves = append(moves, move{pid, now.region})
		}
		sn.stored = now
		ps = append(ps, sp)
		delete(c.dirty, pid)
	}
	c.order = c.order[n:]
	if len(c.order) == 0 {
		c.order = nil
	}
	return ps, moves, nil
}

// putPeople writes what take encoded.
func putPeople(tx *store.Tx, ps []*store.Person, moves []move) error {
	for _, m := range moves {
		if err := tx.SetRegion(m.pid, m.region); err != nil {
			return err
		}
	}
	return tx.PutStates(ps)
}

// counted returns how each person the transaction touched was counted on the dashboard
// before it and is now, in no order: MoveCounted sums them.
func (c *change) counted() []store.CountedMove {
	out := make([]store.CountedMove, 0, len(c.snaps))
	for _, sn := range c.snaps {
		out = append(out, store.CountedMove{
			Was: store.Counted{Region: sn.region, Status: sn.state.Status, Method: sn.state.LastMethod},
			Now: store.Counted{Region: sn.p.Rec.RegionCode, Status: sn.p.State.Status, Method: sn.p.State.LastMethod}})
	}
	return out
}

// undo puts every touched person back as they were.
func (c *change) undo() {
	for _, sn := range c.snaps {
		sn.p.State = sn.state
		sn.p.Rec.RegionCode = sn.region
		sn.p.NextCheck = sn.next
		sn.p.Baselined = sn.baselined
		sn.p.Health = sn.health
	}
	for _, f := range c.undos {
		f()
	}
}

// Snapshot returns a person's state as the store would hold it, for tests and support.
func (s *Service) Snapshot(personID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	pid, ok := s.byID[personID]
	if !ok {
		return ""
	}
	p := s.ppl[pid]
	b, _ := encodeState(&p.State)
	return fmt.Sprintf("%s|%s|%d|%v|%s", p.Rec.PersonID, p.Rec.RegionCode, p.NextCheck, p.Baselined, b)
}
