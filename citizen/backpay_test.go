package citizen

import (
	"context"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestFaceCertificationAfterSuspensionPaysBackPay: 张三 is SUSPENDED (his certification
// ran out and the months since were withheld); his face attempt on the phone goes through
// the engine like any strong record: CERTIFIED by FACE at once, and the next payroll pays
// the month and back-pays every withheld month of every benefit, to the fen.
func TestFaceCertificationAfterSuspensionPaysBackPay(t *testing.T) {
	m := testModels(t)
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), m)
			pid := c.pid(t, zhang)
			if s, _, _ := c.person(t, zhang); s != sc.StatusSuspended {
				t.Fatalf("张三 is %s on %s; the test needs him SUSPENDED", s, today)
			}
			type key struct {
				benefit string
				month   sc.Month
			}
			pays, err := c.db.PersonPayments(ctx, pid)
			if err != nil {
				t.Fatal(err)
			}
			withheld := map[key]sc.Fen{}
			for _, p := range pays {
				if strings.HasPrefix(p.Kind, "WITHHELD:") {
					withheld[key{p.Benefit, p.Month}] = p.Amount
				}
				if p.Kind == "BACK_PAY" {
					t.Fatalf("back pay before the certification: %+v", p)
				}
			}
			if len(withheld) == 0 {
				t.Fatal("nothing withheld while suspended")
			}

			_, photo := demo(t, "sample2.jpg")
			if err := importPhoto(ctx, c.db, zhang, photo, c.clock.Now(), "test"); err != nil {
				t.Fatal(err)
			}
			cl := c.browser(t)
			c.loginByLink(t, cl, zhang, false)
			nonce, csrf := c.capture(t, cl)
			if st, a := c.upload(t, cl, nonce, csrf, blinkBurst(t, m)); st != 200 || a.Outcome != "accept" {
				t.Fatalf("the face attempt: %d %+v", st, a)
			}
			if s, method, _ := c.person(t, zhang); s != sc.StatusCertified || method != sc.MethodFace {
				t.Fatalf("after the attempt 张三 is %s by %s", s, method)
			}

			// The days to the next payroll (1 June).
			june := sc.MustDate("2024-06-01")
			for d := today + 1; d <= june; d++ {
				if err := c.svc.RunDay(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			pays, err = c.db.PersonPayments(ctx, pid)
			if err != nil {
				t.Fatal(err)
			}
			back := map[key]sc.Fen{}
			regular := 0
			for _, p := range pays {
				if p.PayrollMonth != june.Month() {
					continue
				}
				switch {
				case p.Kind == "BACK_PAY":
					back[key{p.Benefit, p.Month}] = p.Amount
				case p.Kind == "REGULAR" && p.Month == june.Month():
					regular++
				case strings.HasPrefix(p.Kind, "WITHHELD:"):
					t.Fatalf("June's payroll still withholds: %+v", p)
				}
			}
			if regular != 2 {
				t.Fatalf("June pays %d benefits, want both of 张三's", regular)
			}
			if len(back) != len(withheld) {
				t.Fatalf("back pay %v, withheld %v", back, withheld)
			}
			for k, amount := range withheld {
				if back[k] != amount {
					t.Fatalf("back pay of %s %s: %v, withheld %v", k.benefit, k.month, back[k], amount)
				}
			}
			var got []store.Payment
			for _, p := range pays {
				if p.Kind == "BACK_PAY" {
					got = append(got, p)
				}
			}
			t.Logf("withheld while suspended and back-paid in June: %+v", got)
		})
	}
}
