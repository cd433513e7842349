package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

const rosterCols = "person_id,name,sex,birth_date,hukou_address,region_code,phone,agent_phone,benefit_type,monthly_amount,start_month,end_month,offset_capacity,last_certified\n"

// TestRosterTrail: a roster import leaves a row per person it adds or changes, in its own
// transaction, naming the person and each field changed old→new (phones masked), and the
// import's row counts what it did and names the file by its SHA-256. The auditor's case:
// one person's pension tripled (4,280.30 → 12,840.90 a month) and an agent's phone put on
// the roster (it receives sign-in links) left only the import's row, without even the
// count of people updated, and the person's page showed the new values with no history.
func TestRosterTrail(t *testing.T) {
	const (
		zhang = "371002194003150019" // tripled, and an agent's phone
		li    = "371002194501010027" // unchanged
		wang  = "371002195002020030" // a second entitlement on the roster: added
		qian  = "371002195103030035" // an entitlement no longer on the roster: kept, not removed
		zhao  = "37100219480303004X" // not on the second roster
		sun   = "371002194707070033" // new on the second roster
	)
	row := func(id, name, phone, agent, benefit, amount, end, capacity string) string {
		return id + "," + name + ",,,某街1号,371002001001," + phone + "," + agent + "," + benefit + "," + amount + ",2000-04," + end + "," + capacity + ",2024-01-10\n"
	}
	first := rosterCols + row(zhang, "张三", "13812345678", "", "EMP_PENSION", "4280.30", "", "") +
		row(li, "李四", "", "", "RES_PENSION", "150.00", "", "") +
		row(wang, "王五", "", "", "EMP_PENSION", "3000.00", "", "9000.00") +
		row(zhao, "赵六", "", "", "EMP_PENSION", "2000.00", "2030-12", "") +
		row(qian, "钱七", "", "", "EMP_PENSION", "2500.00", "", "") +
		row(qian, "钱七", "", "", "SURVIVOR", "400.00", "", "")
	second := rosterCols + row(zhang, "张三", "13812345678", "13998765432", "EMP_PENSION", "12840.90", "", "") +
		row(li, "李四", "", "", "RES_PENSION", "150.00", "", "") +
		row(wang, "王五", "", "", "EMP_PENSION", "3000.00", "", "9000.00") +
		row(wang, "王五", "", "", "SURVIVOR", "500.00", "", "") +
		row(sun, "孙八", "", "", "RES_PENSION", "160.00", "", "") +
		row(qian, "钱七", "", "", "EMP_PENSION", "2500.00", "", "")
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			s, err := service.Open(ctx, db, service.Options{Now: func() time.Time { return time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC) }})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			imp := func(name, text string) (*service.RosterResult, string) {
				t.Helper()
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				res, err := s.ImportRoster(ctx, path, "", "cli:zhao")
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256([]byte(text))
				return res, hex.EncodeToString(sum[:])
			}
			imp("r1.csv", first)
			res, sum := imp("r3.csv", second)
			if res.Added != 1 || res.Updated != 2 || res.Unchanged != 2 || res.EntitlementKept != 1 || res.EntitlementAdded != 1 || res.Absent != 1 ||
				len(res.AddedEntitlements) != 1 || res.AddedEntitlements[0].Benefit != "SURVIVOR" || res.AddedEntitlements[0].PersonID != wang ||
				len(res.KeptEntitlements) != 1 || res.KeptEntitlements[0].Benefit != "SURVIVOR" || res.KeptEntitlements[0].PersonID != qian {
				t.Errorf("the second import: %+v", res)
			}
			// The import's row: what it did, and the file by its hash.
			var detail string
			if err := db.SQL().QueryRow(`SELECT detail FROM audit WHERE kind = 'roster' AND action = 'import' ORDER BY seq DESC LIMIT 1`).Scan(&detail); err != nil {
				t.Fatal(err)
			}
			var rep map[string]any
			if err := json.Unmarshal([]byte(detail), &rep); err != nil {
				t.Fatalf("%s: %v", detail, err)
			}
			for k, v := range map[string]any{"added": 1.0, "updated": 2.0, "unchanged": 2.0, "entitlements_kept": 1.0, "entitlements_added": 1.0,
				"arrears_months": 0.0, "absent": 1.0, "recipients": 5.0, "rows": 6.0, "sha256": sum} {
				if rep[k] != v {
					t.Errorf("the import's row: %s=%v, want %v (%s)", k, rep[k], v, detail)
				}
			}
			// Each person's rows, on their own trail: the enrolment, then the change.
			want := map[string][]string{
				zhang: {"add name=张三;region_code=371002001001;phone=138****5678;last_certified=2024-01-10;EMP_PENSION.monthly_amount=4280.30;EMP_PENSION.start_month=2000-04",
					"update agent_phone=→139****5432;EMP_PENSION.monthly_amount=4280.30→12840.90"},
				li: {"add name=李四;region_code=371002001001;last_certified=2024-01-10;RES_PENSION.monthly_amount=150.00;RES_PENSION.start_month=2000-04"},
				wang: {"add name=王五;region_code=371002001001;last_certified=2024-01-10;EMP_PENSION.monthly_amount=3000.00;EMP_PENSION.start_month=2000-04;EMP_PENSION.offset_capacity=9000.00",
					"update benefit_type=EMP_PENSION→EMP_PENSION|SURVIVOR;SURVIVOR.monthly_amount=→500.00;SURVIVOR.start_month=→2000-04"},
				qian: {"add name=钱七;region_code=371002001001;last_certified=2024-01-10;EMP_PENSION.monthly_amount=2500.00;EMP_PENSION.start_month=2000-04;SURVIVOR.monthly_amount=400.00;SURVIVOR.start_month=2000-04",
					"entitlements_kept entitlements_kept=SURVIVOR"},
				zhao: {"add name=赵六;region_code=371002001001;last_certified=2024-01-10;EMP_PENSION.monthly_amount=2000.00;EMP_PENSION.start_month=2000-04;EMP_PENSION.end_month=2030-12"},
				sun:  {"add name=孙八;region_code=371002001001;last_certified=2024-01-10;RES_PENSION.monthly_amount=160.00;RES_PENSION.start_month=2000-04"},
			}
			for id, rows := range want {
				p, err := db.PersonByID(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				audit, err := db.PersonAudit(ctx, p.PID)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, a := range audit {
					if a.Kind != "roster" {
						continue
					}
					got = append(got, a.Action+" "+a.Detail)
					if a.PersonID != id || a.Actor != "cli:zhao" || !strings.HasPrefix(a.Evidence, "batch:") {
						t.Errorf("%s: row %+v", id, a)
					}
				}
				if strings.Join(got, "\n") != strings.Join(rows, "\n") {
					t.Errorf("%s's roster rows:\n%s\nwant\n%s", id, strings.Join(got, "\n"), strings.Join(rows, "\n"))
				}
			}
			if n, err := db.VerifyAudit(ctx, func(p store.AuditProblem) { t.Errorf("audit: %+v", p) }); err != nil || n == 0 {
				t.Fatalf("verify: %d rows, %v", n, err)
			}
		})
	}
}
