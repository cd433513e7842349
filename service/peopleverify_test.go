package service_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestVerifyPeople: audit verify replays each person's roster rows (add, update,
// entitlements_kept) to the roster fields they imply and finds a person's amount, phone,
// agent's phone, name, roster region or an entitlement's end changed by SQL, a person
// inserted or deleted by SQL and a person's enrolment row deleted; a city the imports
// alone made verifies clean. Before, verify said intact to all of these but the last
// (the chain catches a row deleted).
func TestVerifyPeople(t *testing.T) {
	const (
		zhang = "371002194003150019" // tripled, and an agent's phone, by the second roster
		li    = "371002194501010027"
		wang  = "371002195002020030" // an entitlement added by the second roster
		qian  = "371002195103030035" // an entitlement kept
		zhao  = "37100219480303004X" // an end month
	)
	row := func(id, name, phone, agent, benefit, amount, end string) string {
		return id + "," + name + ",,,某街1号,371002001001," + phone + "," + agent + "," + benefit + "," + amount + ",2000-04," + end + ",,2024-01-10\n"
	}
	first := rosterCols + row(zhang, "张三", "13812345678", "", "EMP_PENSION", "4280.30", "") +
		row(li, "李四", "13700001111", "", "RES_PENSION", "150.00", "") +
		row(wang, "王五", "", "", "EMP_PENSION", "3000.00", "") +
		row(zhao, "赵六", "", "", "EMP_PENSION", "2000.00", "2030-12") +
		row(qian, "钱七", "", "", "EMP_PENSION", "2500.00", "") +
		row(qian, "钱七", "", "", "SURVIVOR", "400.00", "")
	second := rosterCols + row(zhang, "张三", "13812345678", "13998765432", "EMP_PENSION", "12840.90", "") +
		row(li, "李四", "13700001111", "", "RES_PENSION", "150.00", "") +
		row(wang, "王五", "", "", "EMP_PENSION", "3000.00", "") +
		row(wang, "王五", "", "", "SURVIVOR", "500.00", "") +
		row(zhao, "赵六", "", "", "EMP_PENSION", "2000.00", "2030-12") +
		row(qian, "钱七", "", "", "EMP_PENSION", "2500.00", "")
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			s, err := service.Open(ctx, db, service.Options{Now: func() time.Time { return time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC) }})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for i, text := range []string{first, second} {
				path := filepath.Join(dir, "r"+string(rune('1'+i))+".csv")
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				if _, err := s.ImportRoster(ctx, path, "", "cli:zhao"); err != nil {
					t.Fatal(err)
				}
			}
			verify := func() ([]string, store.AuditVerified) {
				t.Helper()
				var got []string
				v, err := db.VerifyTrail(ctx, nil, func(p store.AuditProblem) { got = append(got, p.Reason) })
				if err != nil {
					t.Fatal(err)
				}
				return got, v
			}
			if got, v := verify(); len(got) > 0 || v.People != 5 || v.Unverifiable != 0 {
				t.Fatalf("a city the imports made: %q, %+v", got, v)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.SQL().Exec(db.Rebind(q), args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			for _, c := range []struct {
				name       string
				do, undo   string
				args       []any
				want       []string // in the one problem reported
				unexpected string   // never in what is reported
			}{
				{"amount tripled", `UPDATE people SET entitlements = REPLACE(entitlements, '"Monthly":1284090', '"Monthly":3852270') WHERE person_id = ?`,
					`UPDATE people SET entitlements = REPLACE(entitlements, '"Monthly":3852270', '"Monthly":1284090') WHERE person_id = ?`, []any{zhang},
					[]string{"3710**********0019", "EMP_PENSION.monthly_amount is 38522.70, the trail's 12840.90"}, zhang},
				{"phone", `UPDATE people SET phone = '13900002222' WHERE person_id = ?`, `UPDATE people SET phone = '13812345678' WHERE person_id = ?`, []any{zhang},
					[]string{"its phone is 139****2222, the trail's 138****5678"}, "13900002222"},
				{"agent phone", `UPDATE people SET agent_phone = '13900002222' WHERE person_id = ?`, `UPDATE people SET agent_phone = '' WHERE person_id = ?`, []any{li},
					[]string{"3710**********0027", "its agent_phone is 139****2222, the trail's none"}, "13900002222"},
				{"agent phone replaced", `UPDATE people SET agent_phone = '13900002222' WHERE person_id = ?`, `UPDATE people SET agent_phone = '13998765432' WHERE person_id = ?`, []any{zhang},
					[]string{"its agent_phone is 139****2222, the trail's 139****5432"}, "13900002222"},
				{"name", `UPDATE people SET name = '张四' WHERE person_id = ?`, `UPDATE people SET name = '张三' WHERE person_id = ?`, []any{zhang},
					[]string{"its name is not the trail's"}, "张"},
				{"roster region", `UPDATE people SET roster_region = '371002001002' WHERE person_id = ?`, `UPDATE people SET roster_region = '371002001001' WHERE person_id = ?`, []any{li},
					[]string{"its roster region_code is 371002001002, the trail's 371002001001"}, li},
				{"end month", `UPDATE people SET entitlements = REPLACE(entitlements, '"End":-2147483648', '"End":24300') WHERE person_id = ?`,
					`UPDATE people SET entitlements = REPLACE(entitlements, '"End":24300', '"End":-2147483648') WHERE person_id = ?`, []any{wang},
					[]string{"SURVIVOR.end_month is 2025-01, the trail's none", "EMP_PENSION.end_month is 2025-01"}, wang},
				{"end month removed", `UPDATE people SET entitlements = REPLACE(entitlements, '"End":24371', '"End":-2147483648') WHERE person_id = ?`,
					`UPDATE people SET entitlements = REPLACE(entitlements, '"End":-2147483648', '"End":24371') WHERE person_id = ?`, []any{zhao},
					[]string{"EMP_PENSION.end_month is none, the trail's 2030-12"}, zhao},
				{"an entitlement added", `UPDATE people SET entitlements = REPLACE(entitlements, ']', ',{"Benefit":"TOP_UP","Monthly":50000,"Start":24000,"End":-2147483648}]') WHERE person_id = ?`,
					`UPDATE people SET entitlements = REPLACE(entitlements, ',{"Benefit":"TOP_UP","Monthly":50000,"Start":24000,"End":-2147483648}]', ']') WHERE person_id = ?`, []any{li},
					[]string{"benefit_type is RES_PENSION|TOP_UP, the trail's RES_PENSION", "TOP_UP.monthly_amount is 500.00, the trail's none"}, li},
				{"a person inserted", `INSERT INTO people (pid, person_id, name, sex, birth_date, hukou_address, region_code, phone, agent_phone, last_certified,
					entitlements, status, until_day, last_method, death_date, name_conflicts, roster_region) SELECT 5, '371002196001010011', name, sex, birth_date,
					hukou_address, region_code, phone, agent_phone, last_certified, entitlements, status, until_day, last_method, death_date, name_conflicts, roster_region
					FROM people WHERE person_id = ?`, `DELETE FROM people WHERE pid = 5 AND person_id <> ?`, []any{li},
					[]string{"3710**********0011 (pid 5) has no row of their enrolment in the trail: enrolled outside the service"}, "371002196001010011"},
			} {
				exec(c.do, c.args...)
				got, _ := verify()
				exec(c.undo, c.args...)
				if len(got) != 1 {
					t.Errorf("%s: %d problems: %q", c.name, len(got), got)
					continue
				}
				for _, w := range c.want {
					if !strings.Contains(got[0], w) {
						t.Errorf("%s: %q, want %q in it", c.name, got[0], w)
					}
				}
				if strings.Contains(got[0], c.unexpected) {
					t.Errorf("%s: %q shows %q unmasked", c.name, got[0], c.unexpected)
				}
			}
			if got, _ := verify(); len(got) > 0 {
				t.Fatalf("the tampering undone: %q", got)
			}
			// The second import's update row says what zhang's amount was: an amount changed
			// before it, and put back, shows there (the service's old value is the database's).
			exec(`UPDATE people SET entitlements = REPLACE(entitlements, '"Monthly":1284090', '"Monthly":3852270') WHERE person_id = ?`, zhang)
			s, err = service.Open(ctx, db, service.Options{Now: func() time.Time { return time.Date(2024, 4, 2, 9, 0, 0, 0, time.UTC) }})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "r3.csv")
			if err := os.WriteFile(path, []byte(second), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ImportRoster(ctx, path, "", "cli:zhao"); err != nil {
				t.Fatal(err)
			}
			got, _ := verify()
			if len(got) != 1 || !strings.Contains(got[0], "says its EMP_PENSION.monthly_amount was 38522.70, the trail's before it 12840.90") {
				t.Errorf("an amount changed and put back by an import: %q", got)
			}
			// A person deleted, and a person's enrolment row deleted (which the chain finds).
			exec(`DELETE FROM people_state WHERE pid = (SELECT pid FROM people WHERE person_id = ?)`, qian)
			exec(`DELETE FROM people WHERE person_id = ?`, qian)
			exec(`DELETE FROM audit WHERE kind = 'roster' AND action = 'add' AND person_id = ?`, li)
			got, _ = verify()
			all := strings.Join(got, "\n")
			for _, w := range []string{"3710**********0035 (pid 4) is enrolled in the trail but not in people: deleted outside the service",
				"3710**********0027 (pid 1) has no row of their enrolment in the trail: enrolled outside the service",
				"its link to the row before does not match"} {
				if !strings.Contains(all, w) {
					t.Errorf("a person and an enrolment row deleted: %q, want %q", got, w)
				}
			}
		})
	}
}
