package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestCheckConfig: a database keeps one configuration, as it keeps one model. The first
// service records its own (meta "config", its print, and an audit row holding the whole
// canonical JSON); the same again writes nothing; another (the auditor's case: grace
// months 0 and TEL.ACTIVITY made STRONG, four more people suspended and nothing in the
// trail) is refused, naming both prints and what differs; with a reason the switch is
// written with both prints, what differs, the reason, the new rules and the actor. Each
// day's run row names the print it decided under.
func TestCheckConfig(t *testing.T) {
	other, err := sc.ParseConfig("other.json", []byte(`{"policy":{"grace_months":0},"catalogue":{"types":[{"code":"TEL.ACTIVITY","class":"STRONG"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			open := func(cfg *sc.Config) *service.Service { t.Helper(); return openWithConfig(t, db, cfg) }
			rows := func() []store.AuditRow {
				t.Helper()
				rs, err := db.Trail(ctx, store.TrailQuery{Kind: "config", From: sc.NoDate, To: sc.NoDate, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				return rs
			}
			s := open(nil)
			if err := s.CheckConfig(ctx, "", "cli:zhao"); err != nil {
				t.Fatalf("first use: %v", err)
			}
			first, _, _ := db.Meta(ctx, "config")
			rs := rows()
			if len(first) != 16 || len(rs) != 1 || !strings.HasPrefix(rs[0].Detail, "to="+first+";first=1;config={") || rs[0].Actor != "cli:zhao" {
				t.Fatalf("first use: meta %q, rows %+v", first, rs)
			}
			// The detail's JSON is the configuration: read back, the same rules.
			_, js, _ := strings.Cut(rs[0].Detail, ";config=")
			if strings.ContainsAny(js, ";=") {
				t.Errorf("the JSON holds a separator of the detail's pairs: %s", js)
			}
			var raw json.RawMessage
			if err := json.Unmarshal([]byte(js), &raw); err != nil {
				t.Fatalf("the detail's JSON: %v", err)
			}
			back, err := sc.ParseConfig("audit", []byte(js))
			if err != nil || string(back.CanonicalJSON()) != string(sc.DefaultConfig().CanonicalJSON()) {
				t.Fatalf("the detail's JSON reads back as another configuration (%v)", err)
			}
			if err := open(sc.DefaultConfig()).CheckConfig(ctx, "", "cli:zhao"); err != nil || len(rows()) != 1 {
				t.Fatalf("the same configuration again: %v, %d rows", err, len(rows()))
			}
			err = open(other).CheckConfig(ctx, "", "cli:zhao")
			if sc.ErrorCode(err) != sc.EConflict || !strings.Contains(err.Error(), first) || !strings.Contains(err.Error(), "--config-change") ||
				!strings.Contains(err.Error(), "policy.grace_months 1→0") || !strings.Contains(err.Error(), "catalogue.types.TEL.ACTIVITY.class WEAK→STRONG") ||
				!strings.Contains(err.Error(), "catalogue.types.TEL.ACTIVITY.method →STRONG") {
				t.Fatalf("another configuration: %v", err)
			}
			if got, _, _ := db.Meta(ctx, "config"); got != first || len(rows()) != 1 {
				t.Fatalf("a refusal changed the record: %q, %d rows", got, len(rows()))
			}
			s = open(other)
			if err := s.CheckConfig(ctx, "grace ended; TEL=strong", "cli:zhao"); err != nil {
				t.Fatalf("a switch with a reason: %v", err)
			}
			now, _, _ := db.Meta(ctx, "config")
			rs = rows()
			want := "from=" + first + ";to=" + now + ";changed=catalogue.types.TEL.ACTIVITY.class WEAK→STRONG, catalogue.types.TEL.ACTIVITY.method →STRONG, policy.grace_months 1→0;reason=grace ended, TEL:strong;config={"
			if now == first || len(rs) != 2 || !strings.HasPrefix(rs[0].Detail, want) {
				t.Fatalf("the switch: meta %q, row %q, want %q…", now, rs[0].Detail, want)
			}
			// The day's run names the configuration it decided under.
			if err := s.RunDay(ctx, sc.MustDate("2024-01-02")); err != nil {
				t.Fatal(err)
			}
			run, err := db.Trail(ctx, store.TrailQuery{Kind: "run", From: sc.NoDate, To: sc.NoDate, Limit: 1})
			if err != nil || len(run) != 1 || !strings.Contains(run[0].Detail, ";config="+now+";model=none") {
				t.Fatalf("the run's row: %+v (%v)", run, err)
			}
			if n, err := db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit: %+v", p) }); err != nil || n == 0 {
				t.Fatalf("verify: %d rows, %v", n, err)
			}
		})
	}
}

// TestCheckConfigAfterRuns: a database that ran days before it recorded its
// configuration says so on the first record: those days' rules are not known.
func TestCheckConfigAfterRuns(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/c.db")
	s, err := service.Open(ctx, db, service.Options{Now: func() time.Time { return time.Date(2024, 1, 3, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunDay(ctx, sc.MustDate("2024-01-02")); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckConfig(ctx, "", "serve"); err != nil {
		t.Fatal(err)
	}
	rs, err := db.Trail(ctx, store.TrailQuery{Kind: "config", From: sc.NoDate, To: sc.NoDate, Limit: 1})
	if err != nil || len(rs) != 1 || !strings.Contains(rs[0].Detail, ";first=1;unrecorded_through=2024-01-02;config={") {
		t.Fatalf("%+v (%v)", rs, err)
	}
}

// TestCheckConfigTypeOrder: the people's states name their traces' record types by their
// place in the catalogue, so a configuration that inserts a type before others, or
// removes one, is refused even with a reason; one that adds a type at the end goes
// through with its reason (an upgrade review of session 20: `config --out`'s full list,
// edited, could put a new type first and read every stored trace as another type).
func TestCheckConfigTypeOrder(t *testing.T) {
	withTypes := func(edit func(types []any) []any) *sc.Config {
		t.Helper()
		var f map[string]any
		if err := json.Unmarshal(sc.DefaultConfig().CanonicalJSON(), &f); err != nil {
			t.Fatal(err)
		}
		cat := f["catalogue"].(map[string]any)
		cat["types"] = edit(cat["types"].([]any))
		b, _ := json.Marshal(f)
		cfg, err := sc.ParseConfig("edited.json", b)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	dialysis := map[string]any{"code": "MED.DIALYSIS", "source": "MED", "class": "STRONG"}
	first := withTypes(func(ts []any) []any { return append([]any{dialysis}, ts...) })
	removed := withTypes(func(ts []any) []any { return ts[1:] })
	last := withTypes(func(ts []any) []any { return append(ts, dialysis) })
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			open := func(cfg *sc.Config) *service.Service { t.Helper(); return openWithConfig(t, db, cfg) }
			if err := open(nil).CheckConfig(ctx, "", "cli:zhao"); err != nil {
				t.Fatal(err)
			}
			for name, c := range map[string]struct {
				cfg  *sc.Config
				want string
			}{
				"first":   {first, "puts record type MED.DIALYSIS at place 1"},
				"removed": {removed, "removes record type " + sc.DefaultRecordTypes()[0].Code},
			} {
				err := open(c.cfg).CheckConfig(ctx, "dialysis certifies", "cli:zhao")
				if sc.ErrorCode(err) != sc.EInvalid || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "add new ones at the end") {
					t.Errorf("%s: %v", name, err)
				}
			}
			if err := open(last).CheckConfig(ctx, "dialysis certifies", "cli:zhao"); err != nil {
				t.Errorf("a type added at the end: %v", err)
			}
		})
	}
}

// openWithConfig opens a service over db with the configuration cfg (nil: the built-in),
// its clock at 2024-01-02 09:00 UTC.
func openWithConfig(t *testing.T, db *store.DB, cfg *sc.Config) *service.Service {
	t.Helper()
	s, err := service.Open(context.Background(), db, service.Options{Config: cfg, Now: func() time.Time { return time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
