package service_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/models"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestNameConflictsSurviveReopen: a roster row of 李秀英's ID number under another name is
// quarantined and counted on her; the count is in the database (read back through a new
// connection), in the people a restarted service loads (her next bank trace raises a RISK
// flag naming inconsistent_identity_1), and a corrected roster's re-import clears it.
func TestNameConflictsSurviveReopen(t *testing.T) {
	const li = "371002193802100021"
	golden, err := os.ReadFile("../backtest/testdata/scenario/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conflicting := filepath.Join(dir, "conflicting.csv")
	corrected := filepath.Join(dir, "corrected.csv")
	if err := os.WriteFile(conflicting, append(golden, li+",李秀兰,,,,371002001002,,,RES_PENSION,150,2010-01,,,\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corrected, golden, 0o644); err != nil {
		t.Fatal(err)
	}
	ro, err := exchange.ReadRoster(corrected, exchange.RosterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	goldenProblems := len(ro.Problems)
	cfg := sc.DefaultConfig()
	opt := func() service.Options {
		return service.Options{Model: models.New(models.Default(), cfg.Catalogue, false)}
	}
	for _, dsn := range []struct{ name, url string }{{"sqlite", "sqlite:" + filepath.Join(dir, "t.db")}, {"postgres", ""}} {
		t.Run(dsn.name, func(t *testing.T) {
			url := dsn.url
			if url == "" {
				url = storetest.PostgresDSN(t)
			}
			ctx := context.Background()
			conflicts := func(want int) {
				t.Helper()
				db := storetest.Open(t, url) // a connection of its own: what was committed
				p, err := db.PersonByID(ctx, li)
				if err != nil {
					t.Fatal(err)
				}
				if p.Rec.NameConflicts != want || p.Rec.Name != "李秀英" || len(p.Rec.Entitlements) != 1 {
					t.Fatalf("stored: %d name conflicts, name %s, %d entitlements; want %d, 李秀英, 1",
						p.Rec.NameConflicts, p.Rec.Name, len(p.Rec.Entitlements), want)
				}
				db.Close()
			}
			first := storetest.Open(t, url)
			s, err := service.Open(ctx, first, opt())
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.ImportRoster(ctx, conflicting, "", "test")
			if err != nil {
				t.Fatal(err)
			}
			// The golden roster's own quarantined rows, and this one.
			ps := res.Roster.Problems
			if len(ps) != goldenProblems+1 || ps[len(ps)-1].Reason != exchange.ReasonDisagreesWithPerson || ps[len(ps)-1].Field != "name" {
				t.Fatalf("problems %+v", ps)
			}
			conflicts(1)

			first.Close() // the first process ends
			db := storetest.Open(t, url)
			s, err = service.Open(ctx, db, opt())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Ingest(ctx, csvBatch("BANK", header+"b1,BANK,BANK.TXN,"+li+",李秀英,,2024-02-20,2024-02-21,,\n")); err != nil {
				t.Fatal(err)
			}
			p, err := db.PersonByID(ctx, li)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.PersonAudit(ctx, p.PID)
			if err != nil {
				t.Fatal(err)
			}
			flagged := false
			for _, r := range rows {
				if r.Action == "RISK" {
					// Named by its own rule, not a bare "§6" as if the engine's.
					flagged = strings.Contains(r.Detail, "reasons=inconsistent_identity_1|") && r.Rule == service.RiskRule
				}
			}
			if !flagged {
				t.Errorf("no RISK row naming inconsistent_identity_1 after a restart: %+v", rows)
			}

			res, err = s.ImportRoster(ctx, corrected, "", "test")
			if err != nil {
				t.Fatal(err)
			}
			if res.Updated != 1 || len(res.Roster.Problems) != goldenProblems {
				t.Errorf("corrected roster: %d updated, problems %+v; want 1, the golden roster's", res.Updated, res.Roster.Problems)
			}
			conflicts(0)
			// The correction on her trail: the conflict counted, then none.
			if rows, err = db.PersonAudit(ctx, p.PID); err != nil {
				t.Fatal(err)
			}
			if r := rows[len(rows)-1]; r.Kind != "roster" || r.Action != "update" || r.Detail != "name_conflicts=1→0" {
				t.Errorf("the corrected roster's row: %+v", r)
			}
		})
	}
}

// TestLinkByRosterRegionAfterMove: two recipients share name and birth date; one moves to
// the other's town. A record without an ID, narrowed by a region, links by the roster's
// regions (spec §3), as backtest does: the same whether or not the service restarted
// since the move (it linked by the moved region after a restart, by the roster's before),
// and a roster row whose address did not resolve has no region to narrow by at all.
func TestLinkByRosterRegionAfterMove(t *testing.T) {
	id := func(first17 string) string { return first17 + string(idcard.CheckChar([]byte(first17))) }
	a, b := id("37100219400315003"), id("37100219400315005")
	for _, c := range []struct {
		name, aRegion string // a's roster region ("": an address that does not resolve)
		moveTo        string // out of the record's town, or into it
		applied       int64
	}{{"by the roster's region", "371002001001", "371002002005", 1}, {"no roster region", "", "371002001005", 0}} {
		roster := filepath.Join(t.TempDir(), "roster.csv")
		if err := os.WriteFile(roster, []byte("person_id,name,hukou_address,region_code,benefit_type,monthly_amount,start_month,last_certified\n"+
			a+",王五,某地某村,"+c.aRegion+",EMP_PENSION,100,2000-01,2023-12-01\n"+
			b+",王五,,371002002001,EMP_PENSION,100,2000-01,2023-12-01\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		batch := func(src, body, day string) service.Batch {
			return service.Batch{Origin: "api", Source: src, Actor: "t", Day: sc.MustDate(day),
				Files: []service.File{{Name: "b.csv", Body: strings.NewReader(header + body)}}}
		}
		for _, dsn := range storetest.DSNs(t) {
			t.Run(c.name+"/"+dsn.Name, func(t *testing.T) {
				for _, restart := range []bool{false, true} {
					ctx := context.Background()
					db := dsn.Open(t)
					s, err := service.Open(ctx, db, service.Options{})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := s.ImportRoster(ctx, roster, "", "t"); err != nil {
						t.Fatal(err)
					}
					if _, err := s.Ingest(ctx, batch("PSB", "m1,PSB,PSB.HUKOU_MOVE,"+a+",,,2024-02-10,2024-02-10,"+c.moveTo+",\n", "2024-02-10")); err != nil {
						t.Fatal(err)
					}
					if restart {
						if s, err = service.Open(ctx, db, service.Options{}); err != nil {
							t.Fatal(err)
						}
					}
					// A roster imported again keeps the move and the roster's region.
					if _, err := s.ImportRoster(ctx, roster, "", "t"); err != nil {
						t.Fatal(err)
					}
					res, err := s.Ingest(ctx, batch("HEA", "v1,HEA,HEA.CHECKUP,,王五,1940-03-15,2024-02-11,2024-02-11,371002001,\n", "2024-02-11"))
					if err != nil {
						t.Fatal(err)
					}
					pa, _ := db.PersonByID(ctx, a)
					if res.Report.Applied != c.applied || res.Report.Unlinked != 1-c.applied || pa.Rec.RegionCode != c.moveTo || pa.RosterRegion != c.aRegion {
						t.Errorf("restart %v: report %+v, region %s, roster's %s", restart, res.Report, pa.Rec.RegionCode, pa.RosterRegion)
					}
				}
			})
		}
	}
}
