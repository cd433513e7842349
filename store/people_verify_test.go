package store_test

import (
	"context"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestVerifyPeopleBeforeTrail: a database whose people were enrolled before the roster
// trail (session 17: no row of their enrolment) verifies clean, those people counted as
// unverifiable, not reported; once imports write the trail, a person enrolled by one is
// checked whole, one enrolled before is checked on the fields an update row named since,
// and a person inserted by SQL after the trail began is reported.
func TestVerifyPeopleBeforeTrail(t *testing.T) {
	ctx := context.Background()
	for _, u := range storetest.URLs(t) {
		t.Run(u.Name, func(t *testing.T) {
			dsn := u.DSN(t)
			old, err := store.OpenNoMigrate(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			// An older binary's database: migrated to 0032, the last migration before the
			// roster trail, three people imported without rows of their own and the import's
			// row without the counts the trail's imports write.
			if err := old.MigrateTo(ctx, 32); err != nil {
				t.Fatal(err)
			}
			person := func(pid int64, id string, amount sc.Fen) *store.Person {
				n, _ := idcard.Normalize([]byte(id))
				return &store.Person{PID: pid, RosterRegion: "371002001001", State: []byte{1}, Rec: sc.Recipient{PersonID: id, Name: "张三",
					Sex: idcard.Sex(n), BirthDate: idcard.BirthDate(n),
					RegionCode: "371002001001", Phone: "13812345678", LastCertified: sc.MakeDate(2024, 1, 10),
					Entitlements: []sc.Entitlement{{Benefit: "EMP_PENSION", Monthly: amount, Start: sc.MakeMonth(2000, 4), End: sc.NoMonth}}}}
			}
			ps := []*store.Person{person(0, "371002194003150019", 100000), person(1, "371002194501010027", 150000), person(2, "371002195002020030", 200000)}
			write := func(db *store.DB, ps []*store.Person, rows ...store.AuditRow) {
				t.Helper()
				tx, err := db.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if err := tx.PutPeople(ps); err != nil {
					t.Fatal(err)
				}
				if err := tx.Append(rows); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			roster := func(pid int64, id, action, detail string) store.AuditRow {
				return store.AuditRow{Kind: "roster", Day: 20000, At: "2024-10-01T00:00:00Z", Actor: "cli:zhao", PID: pid, PersonID: id, Action: action,
					Evidence: "batch:1", Detail: detail}
			}
			write(old, ps, roster(-1, "", "import", `{"encoding":"utf-8","linked_late":0,"quarantined":0,"recipients":3,"rows":3,"warnings":0}`))
			old.Close()

			db, err := store.OpenAs(ctx, dsn, "cli:zhao")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			verify := func() ([]string, store.AuditVerified) {
				t.Helper()
				var got []string
				v, err := db.VerifyTrail(ctx, nil, func(p store.AuditProblem) { got = append(got, p.Reason) })
				if err != nil {
					t.Fatal(err)
				}
				return got, v
			}
			if got, v := verify(); len(got) > 0 || v.People != 3 || v.Unverifiable != 3 {
				t.Fatalf("a database from before the roster trail: %q, %+v", got, v)
			}
			// An import with the trail: person 0's amount changed, person 3 enrolled.
			ps[0].Rec.Entitlements[0].Monthly = 120000
			p3 := person(3, "37100219480303004X", 300000)
			write(db, []*store.Person{ps[0], p3},
				roster(0, ps[0].Rec.PersonID, "update", "EMP_PENSION.monthly_amount=1000.00→1200.00"),
				roster(3, p3.Rec.PersonID, "add", "name=张三;region_code=371002001001;phone=138****5678;last_certified=2024-01-10;EMP_PENSION.monthly_amount=3000.00;EMP_PENSION.start_month=2000-04"),
				roster(-1, "", "import", `{"absent":1,"added":1,"encoding":"utf-8","updated":1,"unchanged":1}`))
			if got, v := verify(); len(got) > 0 || v.People != 4 || v.Unverifiable != 3 {
				t.Fatalf("after an import with the trail: %q, %+v", got, v)
			}
			exec := func(q string) {
				t.Helper()
				if _, err := db.SQL().Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec(`UPDATE people SET entitlements = REPLACE(entitlements, '"Monthly":120000', '"Monthly":360000') WHERE pid = 0`)
			exec(`UPDATE people SET entitlements = REPLACE(entitlements, '"Monthly":150000', '"Monthly":450000') WHERE pid = 1`) // unverifiable
			exec(`UPDATE people SET phone = '13900002222' WHERE pid = 3`)
			// Ten years younger to the health index and the RISK model: checked against the
			// ID number, so for a person enrolled before the trail too.
			exec(`UPDATE people SET birth_date = birth_date + 3653 WHERE pid = 1`)
			exec(`INSERT INTO people (pid, person_id, name, sex, birth_date, hukou_address, region_code, phone, agent_phone, last_certified,
				entitlements, status, until_day, last_method, death_date, name_conflicts, roster_region) SELECT 4, '371002196001010011', name, sex, birth_date,
				hukou_address, region_code, phone, agent_phone, last_certified, entitlements, status, until_day, last_method, death_date, name_conflicts, roster_region
				FROM people WHERE pid = 2`)
			got, v := verify()
			want := []string{
				"person 3710**********0019 (pid 0) was changed outside the service: its EMP_PENSION.monthly_amount is 3600.00, the trail's 1200.00",
				"person 3710**********0027 (pid 1) was changed outside the service: its birth date is not its ID number's",
				"person 3710**********004X (pid 3) was changed outside the service: its phone is 139****2222, the trail's 138****5678",
				"person 3710**********0011 (pid 4) has no row of their enrolment in the trail: enrolled outside the service",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") || v.People != 5 || v.Unverifiable != 3 {
				t.Errorf("tampered:\n%s\nwant\n%s\n%+v", strings.Join(got, "\n"), strings.Join(want, "\n"), v)
			}
		})
	}
}
