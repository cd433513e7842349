package service_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/silentcert/silentcert/store/storetest"
)

// TestRosterImportReadsInItsTransaction: the payrolls a roster import counts arrears from
// (the spans of the people it gives an allowance, the last payroll run) are read in the
// import's own transaction, not beside it through the readers' pool (where, but for the
// process's claim and the writers' lock, a payroll committed meanwhile could differ from
// what the transaction acts on). Shown by taking the readers' pool away for the import:
// before, the import waited for a reader until its context ended; now it reads nothing
// outside its transaction and reports the four months (February to May) that ran.
func TestRosterImportReadsInItsTransaction(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			db := dsn.Open(t)
			s, _ := monthsCity(t, db, "EMP_PENSION,1000.00,2000-04,,5000.00,2024-01-10")
			runDays(t, s, "2024-02-01", "2024-05-01")
			path := filepath.Join(t.TempDir(), "roster.csv")
			roster := "person_id,name,sex,birth_date,hukou_address,region_code,phone,agent_phone,benefit_type,monthly_amount,start_month,end_month,offset_capacity,last_certified\n" +
				zhang + ",张三,1,1940-03-15,,371002001001,,,EMP_PENSION,1000.00,2000-04,,5000.00,2024-01-10\n" +
				zhang + ",张三,1,1940-03-15,,371002001001,,,ELDERLY_ALLOWANCE,100.00,2020-01,,,2024-01-10\n"
			if err := os.WriteFile(path, []byte(roster), 0o644); err != nil {
				t.Fatal(err)
			}
			// The readers' pool: one connection, held here.
			rd := db.Reader()
			rd.SetMaxOpenConns(1)
			defer rd.SetMaxOpenConns(4)
			conn, err := rd.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := s.ImportRoster(ctx, path, "", "test")
			conn.Close()
			if err != nil {
				t.Fatalf("the import: %v", err)
			}
			if res.EntitlementAdded != 1 || res.ArrearsMonths != 4 || len(res.AddedEntitlements) != 1 ||
				res.AddedEntitlements[0].ArrearsFrom.String() != "2024-02" || res.AddedEntitlements[0].ArrearsTo.String() != "2024-05" {
				t.Errorf("the import: %+v", res)
			}
		})
	}
}
