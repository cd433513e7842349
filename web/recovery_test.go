package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
	"github.com/silentcert/silentcert/web"
)

// TestRecoveries: a death reported late leaves months paid after it; the bureau sees the
// case on the recovery list and the person page, records a partial repayment and a
// write-off of the rest, each audited, and the case is settled; more than is left, a
// write-off by an operator, a repayment by an auditor or a village assistant, and bad
// amounts are refused; the village assistant sees no money at all.
func TestRecoveries(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) { testRecoveries(t, newCity(t, dsn.Open(t))) })
	}
}

func testRecoveries(t *testing.T, c *city) {
	ctx := context.Background()
	zp, _ := c.db.PersonByID(ctx, zhang)
	zURL := fmt.Sprintf("/person/%d", zp.PID)
	// The village assistant reports 张三's death of 2024-02-20, long after it: March and
	// April were paid (3,000.00 and 100.00 a month, no offset capacity).
	v1 := c.client(t)
	v1.login("v1")
	v1.get(zURL)
	if st, _, body := v1.post(zURL+"/visit", url.Values{"csrf": {v1.csrf}, "outcome": {"death"}, "date": {"2024-02-20"}}); st != http.StatusSeeOther {
		t.Fatalf("death visit: %d %s", st, body)
	}
	cases, err := c.svc.RecoveriesOf(ctx, zp.PID)
	if err != nil || len(cases) != 2 || cases[1].Benefit != "EMP_PENSION" || cases[1].ToRecover != 600000 || cases[1].Months != 2 {
		t.Fatalf("张三's recovery cases after a late death: %+v", cases)
	}
	owed := cases[1].ToRecover
	if st, body := v1.get("/recoveries"); st != http.StatusForbidden {
		t.Errorf("the village assistant's recovery list: %d %s", st, body)
	}
	if _, body := v1.get(zURL); strings.Contains(body, `id="recovery"`) || strings.Contains(body, "/recovery\"") {
		t.Error("the village assistant's person page shows money to recover")
	}
	if st, _, _ := v1.post(zURL+"/recovery", url.Values{"csrf": {v1.csrf}, "benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"1"}}); st != http.StatusForbidden {
		t.Errorf("a repayment recorded by the village assistant: %d", st)
	}

	op := c.client(t)
	op.login("operator")
	st, body := op.get("/recoveries")
	if st != http.StatusOK || !strings.Contains(body, "张三") || !strings.Contains(body, "¥6,000.00") || !strings.Contains(body, "¥6,200.00") {
		t.Fatalf("the recovery list: %d\n%s", st, body)
	}
	if _, body := op.get(zURL); strings.Contains(body, `id="until"`) {
		t.Error("a dead person's page shows a certification running on")
	}
	if _, body := op.get("/"); !strings.Contains(body, "以下金额为自 ") {
		t.Error("the dashboard's money does not say since when it adds up")
	}
	if _, body := op.get("/"); !strings.Contains(body, `id="to-recover">¥6,200.00`) {
		t.Error("the dashboard does not show the ¥6,200.00 left to recover")
	}
	if _, body := op.get("/?region=371002001002"); !strings.Contains(body, `id="to-recover">¥0.00`) {
		t.Error("the dashboard of 李秀英's village shows money to recover")
	}
	if st, body := op.get("/recoveries?region=371002001002"); st != http.StatusOK || strings.Contains(body, "张三") {
		t.Errorf("another village's recovery list: %d", st)
	}
	if st, _ := c.clientAs(t, "town").get("/recoveries?region=371003"); st != http.StatusForbidden {
		t.Errorf("a town's look at another district's recoveries: %d", st)
	}
	// The filters' links are the lists' own addresses (they were escaped to state%3dall).
	for _, s := range []string{"open", "over", "settled", "all"} {
		if !strings.Contains(body, `href="/recoveries?state=`+s+`"`) {
			t.Errorf("no link to the %s list", s)
		}
	}
	if st, body := op.get("/recoveries?state=settled"); st != http.StatusOK || strings.Contains(body, "张三") {
		t.Errorf("the settled list holds an open case: %d", st)
	}
	if st, _ := op.get("/recoveries?state=bogus"); st != http.StatusBadRequest {
		t.Errorf("a bad state: %d", st)
	}
	// Dead: the visit form chooses no outcome beforehand ("seen alive" is elsewhere).
	if _, body := op.get(zURL); strings.Contains(body, `value="alive" required checked`) {
		t.Error("a dead person's visit form has 'seen alive' chosen")
	}
	post := func(cl *client, form url.Values) (int, string, string) {
		form.Set("csrf", cl.csrf)
		return cl.post(zURL+"/recovery", form)
	}
	for _, bad := range []struct {
		form url.Values
		want int
	}{
		{url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"0"}}, http.StatusBadRequest},
		{url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"-5"}}, http.StatusBadRequest},
		{url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"12,00"}}, http.StatusBadRequest},
		{url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"10"}, "date": {"2099-01-01"}}, http.StatusBadRequest},
		{url.Values{"benefit": {"EMP_PENSION"}, "kind": {"stolen"}, "amount": {"10"}}, http.StatusBadRequest},
		{url.Values{"benefit": {"RES_PENSION"}, "kind": {"repaid"}, "amount": {"10"}}, http.StatusBadRequest},
		{url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"10"}, "date": {"2024-02-19"}}, http.StatusBadRequest},
		{url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {(owed + 1).String()}}, http.StatusConflict},
		{url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"10"}, "once": {"not-a-key"}}, http.StatusBadRequest},
		{url.Values{"benefit": {"EMP_PENSION"}, "kind": {"refunded"}, "amount": {"10"}}, http.StatusForbidden},
		{url.Values{"benefit": {"EMP_PENSION"}, "kind": {"waived"}, "amount": {"10"}, "note": {"hardship"}}, http.StatusForbidden},
	} {
		if st, _, body := post(op, bad.form); st != bad.want {
			t.Errorf("%v: %d, want %d\n%s", bad.form, st, bad.want, body)
		}
	}
	// A partial repayment, then the rest written off by an administrator.
	// Sent twice (a double tap; the form's one-time key): recorded once, both answered
	// with the same entry.
	once := "00112233445566778899aabb"
	st, loc, body := post(op, url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"1000.50"}, "date": {"2024-05-09"}, "note": {"收据 0042"}, "once": {once}})
	if st != http.StatusSeeOther || !strings.Contains(loc, "recovered=") {
		t.Fatalf("a repayment: %d %s %s", st, loc, body)
	}
	if st2, loc2, body := post(op, url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"1000.50"}, "date": {"2024-05-09"}, "note": {"收据 0042"}, "once": {once}}); st2 != http.StatusSeeOther || loc2 != loc {
		t.Fatalf("the repayment sent again: %d %s (first %s) %s", st2, loc2, loc, body)
	}
	if _, body := op.get(zURL); !strings.Contains(body, `name="once" value="`) {
		t.Error("the recovery form carries no one-time key")
	}
	if _, body := op.get(loc); !strings.Contains(body, "¥1,000.50") || !strings.Contains(body, "¥4,999.50") || !strings.Contains(body, "收据 0042") {
		t.Errorf("the person page after a repayment shows no ¥1,000.50 repaid, ¥4,999.50 left and its note:\n%s", body)
	}
	// The village assistant sees that months were paid, never how much, nor the recovery;
	// the benefit by its name, not its code.
	if _, body := v1.get(zURL); strings.Contains(body, "¥") || strings.Contains(body, "收据 0042") || strings.Contains(body, "amount=") ||
		!strings.Contains(body, "企业职工基本养老金") || strings.Contains(body, "EMP_PENSION") {
		t.Errorf("the village assistant's person page shows money, or no payments at all:\n%s", body)
	}
	if st, body := v1.get("/?region=371002001001"); st != http.StatusOK || strings.Contains(body, "¥") {
		t.Errorf("the village assistant's dashboard (%d) shows money", st)
	}
	left := owed - 100050
	ad := c.client(t)
	ad.login("admin")
	ad.get(zURL)
	if st, _, _ := post(ad, url.Values{"benefit": {"EMP_PENSION"}, "kind": {"waived"}, "amount": {left.String()}}); st != http.StatusBadRequest {
		t.Errorf("a write-off without its reason: %d", st)
	}
	if st, _, body := post(ad, url.Values{"benefit": {"EMP_PENSION"}, "kind": {"waived"}, "amount": {left.String()}, "note": {"family in hardship; approved"}}); st != http.StatusSeeOther {
		t.Fatalf("a write-off: %d %s", st, body)
	}
	if st, _, body := post(op, url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"0.01"}}); st != http.StatusConflict ||
		!strings.Contains(body, "0.01 超过尚未追回的 0.00") {
		t.Errorf("a repayment of a settled case: %d, not said in the operator's words\n%s", st, body)
	}
	entries, err := c.db.RecoveryEntries(ctx, []int64{zp.PID})
	if err != nil {
		t.Fatal(err)
	}
	if st := store.Settle(entries[zp.PID], "EMP_PENSION", owed); st.Repaid != 100050 || st.Waived != left || st.Outstanding != 0 || st.Refund != 0 || len(entries[zp.PID]) != 2 {
		t.Fatalf("entries: %+v", entries[zp.PID])
	}
	// The payroll's recovery file (payroll --recoveries) carries them.
	var file bytes.Buffer
	if _, err := c.svc.WriteRecoveries(ctx, &file); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"person_id,benefit_type,months,amount,offset,to_recover,status,death_date,repaid,waived,outstanding,refunded,refund_due\n",
		zhang + ",ELDERLY_ALLOWANCE,2,200.00,0.00,200.00,TERMINATED,2024-02-20,0.00,0.00,200.00,0.00,0.00\n",
		zhang + ",EMP_PENSION,2,6000.00,0.00,6000.00,TERMINATED,2024-02-20,1000.50,4999.50,0.00,0.00,0.00\n"} {
		if !strings.Contains(file.String(), line) {
			t.Errorf("the recovery file holds no %q:\n%s", line, file.String())
		}
	}
	_, body = op.get("/recoveries?state=settled")
	if !strings.Contains(body, "张三") {
		t.Error("the settled case is not on the settled list")
	}
	if _, body := op.get("/recoveries"); strings.Count(body, fmt.Sprintf(`data-pid="%d"`, zp.PID)) != 1 {
		t.Error("the open list does not hold 张三's other entitlement alone")
	}
	if _, body := op.get("/"); !strings.Contains(body, `id="to-recover">¥200.00`) {
		t.Error("the dashboard does not show the ¥200.00 left once the pension's case is settled")
	}
	// Each entry has its audit row, the ledger keyed by it.
	rows, err := c.db.Trail(ctx, store.TrailQuery{Kind: "recovery", From: sc.NoDate, To: sc.NoDate})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Seq != entries[zp.PID][1].Seq || rows[0].Actor != "admin" || rows[0].Action != "waived" ||
		!strings.Contains(rows[0].Detail, "note=family in hardship, approved") || rows[1].Actor != "operator" || rows[1].PID != zp.PID {
		t.Errorf("the recovery audit rows: %+v", rows)
	}
	// The auditor reads, records nothing; the export is audited and masks IDs.
	au := c.client(t)
	au.login("auditor")
	if st, body := au.get("/recoveries?state=all"); st != http.StatusOK || !strings.Contains(body, "张三") || strings.Contains(body, zhang) {
		t.Errorf("the auditor's recovery list: %d (full ID shown: %v)", st, strings.Contains(body, zhang))
	}
	if st, _, _ := post(au, url.Values{"benefit": {"ELDERLY_ALLOWANCE"}, "kind": {"repaid"}, "amount": {"1"}}); st != http.StatusForbidden {
		t.Errorf("a repayment recorded by the auditor: %d", st)
	}
	st, body = au.get("/recoveries?state=all&format=csv")
	if st != http.StatusOK || !strings.Contains(body, "ELDERLY_ALLOWANCE") || strings.Contains(body, zhang) {
		t.Errorf("the auditor's export: %d\n%s", st, body)
	}
	if rows, _ := c.db.Trail(ctx, store.TrailQuery{Kind: "export", Actor: "auditor", From: sc.NoDate, To: sc.NoDate}); len(rows) != 1 || rows[0].Action != "recoveries" {
		t.Errorf("the export's audit rows: %+v", rows)
	}
	// The ledger is checked against its audit rows by audit verify: a changed amount and a
	// deleted entry are found.
	problems := func() []store.AuditProblem {
		var ps []store.AuditProblem
		if _, err := c.db.VerifyAudit(ctx, func(p store.AuditProblem) { ps = append(ps, p) }); err != nil {
			t.Fatal(err)
		}
		return ps
	}
	if ps := problems(); len(ps) != 0 {
		t.Fatalf("audit verify on an untouched ledger: %+v", ps)
	}
	first := entries[zp.PID][0].Seq
	if _, err := c.db.SQL().ExecContext(ctx, c.db.Rebind(`UPDATE recovery_entries SET amount = amount + 100 WHERE seq = ?`), first); err != nil {
		t.Fatal(err)
	}
	if ps := problems(); len(ps) != 1 || ps[0].Seq != first {
		t.Errorf("audit verify on a changed entry: %+v", ps)
	}
	if _, err := c.db.SQL().ExecContext(ctx, c.db.Rebind(`UPDATE recovery_entries SET amount = amount - 100, note = 'receipt 9999' WHERE seq = ?`), first); err != nil {
		t.Fatal(err)
	}
	if ps := problems(); len(ps) != 1 || ps[0].Seq != first {
		t.Errorf("audit verify on a changed receipt number: %+v", ps)
	}
	if _, err := c.db.SQL().ExecContext(ctx, c.db.Rebind(`UPDATE recovery_entries SET note = '收据 0042' WHERE seq = ?`), first); err != nil {
		t.Fatal(err)
	}
	saved, err := c.db.RecoveryEntries(ctx, []int64{zp.PID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.SQL().ExecContext(ctx, c.db.Rebind(`DELETE FROM recovery_entries WHERE seq = ?`), first); err != nil {
		t.Fatal(err)
	}
	if ps := problems(); len(ps) != 1 || ps[0].Seq != first || !strings.Contains(ps[0].Reason, "deleted") {
		t.Errorf("audit verify on a deleted entry: %+v", ps)
	}
	e0 := saved[zp.PID][0]
	if _, err := c.db.SQL().ExecContext(ctx, c.db.Rebind(`INSERT INTO recovery_entries (seq, pid, benefit, day, kind, amount, actor, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		e0.Seq, e0.PID, e0.Benefit, int64(e0.Day), e0.Kind, int64(e0.Amount), e0.Actor, e0.Note); err != nil {
		t.Fatal(err)
	}
	if ps := problems(); len(ps) != 0 {
		t.Fatalf("audit verify on the ledger put back: %+v", ps)
	}
	// A vaccination after the reported death puts it in conflict: until the review the
	// case keeps its figures (settled, nothing due back), marked as disputed — before
	// session 14 the repayment showed as due back at once, and a refund paid then was
	// owed again when the review confirmed the death.
	if _, err := c.svc.Ingest(ctx, service.Batch{Origin: "test", Source: "HEA", Actor: "test", Day: today, Files: []service.File{{Name: "v.csv",
		Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date\nV1,HEA,HEA.VACCINATION," + zhang + ",2024-05-08,2024-05-10\n")}}}); err != nil {
		t.Fatal(err)
	}
	if cs, err := c.svc.RecoveriesOf(ctx, zp.PID); err != nil || len(cs) != 2 || cs[1].Benefit != "EMP_PENSION" || cs[1].ToRecover != 600000 || cs[1].Outstanding != 0 || cs[1].Refund != 0 {
		t.Fatalf("while the death is disputed the case changed: %+v %v", cs, err)
	}
	if _, body := op.get("/recoveries?state=all"); !strings.Contains(body, "死亡存疑，待复核") {
		t.Error("the disputed case is not marked so")
	}
	if _, body := op.get("/recoveries?state=over"); strings.Contains(body, "张三") {
		t.Error("a disputed case is on the refunds' list")
	}
	// The review finds him alive: the engine finds nothing overpaid any more, and the
	// ¥1,000.50 the family repaid shows as due back, on the list of refunds, the person
	// page and the payroll's file (the ¥4,999.50 written off was never paid by anyone: it
	// is not due back); an administrator records the refund.
	if _, err := c.svc.Ingest(ctx, service.Batch{Origin: "test", Source: "HRSS", Actor: "test", Day: today, Files: []service.File{{Name: "r.csv",
		Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date,detail\nR1,HRSS,HRSS.REVIEW," + zhang + ",2024-05-10,2024-05-10,accept=alive;ref=HEA:V1\n")}}}); err != nil {
		t.Fatal(err)
	}
	if cs, err := c.svc.RecoveriesOf(ctx, zp.PID); err != nil || len(cs) != 1 || cs[0].Benefit != "EMP_PENSION" || cs[0].ToRecover != 0 || cs[0].Outstanding != 0 || cs[0].Refund != 100050 {
		t.Fatalf("once the death is reviewed away the engine still finds months overpaid, or the ¥1,000.50 repaid is not due back: %+v %v", cs, err)
	}
	if st, body := op.get("/recoveries?state=over"); st != http.StatusOK || !strings.Contains(body, "张三") || !strings.Contains(body, `id="refund">¥1,000.50`) {
		t.Errorf("the refunds list: %d\n%s", st, body)
	}
	if _, body := op.get("/recoveries"); strings.Contains(body, "张三") {
		t.Error("a refund due is on the list of money to recover")
	}
	if _, body := op.get(zURL); !strings.Contains(body, "¥1,000.50</td>") || strings.Contains(body, "¥-") || !strings.Contains(body, `action="`+zURL+`/recovery"`) {
		t.Error("the person page shows no refund due, or a negative amount, or no form to record the refund")
	}
	file.Reset()
	if _, err := c.svc.WriteRecoveries(ctx, &file); err != nil || !strings.Contains(file.String(), zhang+",EMP_PENSION,0,0.00,0.00,0.00,CERTIFIED,,1000.50,4999.50,0.00,0.00,1000.50\n") {
		t.Errorf("the recovery file after the review (%v):\n%s", err, file.String())
	}
	if _, body := op.get("/recoveries?state=over&format=csv"); !strings.Contains(body, ",1000.50,") || strings.Contains(body, ",-") {
		t.Errorf("the refunds' export:\n%s", body)
	}
	if st, _, _ := post(op, url.Values{"benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"1"}}); st != http.StatusConflict {
		t.Errorf("a repayment of nothing owed: %d", st)
	}
	if st, _, _ := post(op, url.Values{"benefit": {"EMP_PENSION"}, "kind": {"refunded"}, "amount": {"1000.50"}}); st != http.StatusForbidden {
		t.Errorf("a refund recorded by an operator: %d", st)
	}
	if st, _, _ := post(ad, url.Values{"benefit": {"EMP_PENSION"}, "kind": {"refunded"}, "amount": {"1000.51"}}); st != http.StatusConflict {
		t.Errorf("a refund of more than is due back: %d", st)
	}
	refund := url.Values{"benefit": {"EMP_PENSION"}, "kind": {"refunded"}, "amount": {"1000.50"}, "note": {"转账 7781"}, "once": {"aabbccddeeff001122334455"}}
	st, loc, body = post(ad, refund)
	if st != http.StatusSeeOther {
		t.Fatalf("the refund: %d %s", st, body)
	}
	// Sent again: answered with its entry, not refused as nothing due back any more.
	if st2, loc2, body := post(ad, refund); st2 != http.StatusSeeOther || loc2 != loc {
		t.Errorf("the refund sent again: %d %s (first %s)\n%s", st2, loc2, loc, body)
	}
	if _, body := op.get("/recoveries?state=settled"); !strings.Contains(body, "张三") {
		t.Error("the case refunded is not settled")
	}
	file.Reset()
	if _, err := c.svc.WriteRecoveries(ctx, &file); err != nil || !strings.Contains(file.String(), zhang+",EMP_PENSION,0,0.00,0.00,0.00,CERTIFIED,,1000.50,4999.50,0.00,1000.50,0.00\n") {
		t.Errorf("the recovery file after the refund (%v):\n%s", err, file.String())
	}
	if ps := problems(); len(ps) != 0 {
		t.Errorf("audit verify after the refund: %+v", ps)
	}
	// The refund was recorded in error: an administrator reverses it, with a reason; the
	// money is due back again, the entry shown struck through, the reversal audited.
	ledger, _ := c.db.RecoveryEntries(ctx, []int64{zp.PID})
	es := ledger[zp.PID]
	refundSeq := es[len(es)-1].Seq
	reverse := url.Values{"kind": {"reversed"}, "entry": {strconv.FormatInt(refundSeq, 10)}, "note": {"转错账户"}}
	if st, _, _ := post(op, reverse); st != http.StatusForbidden {
		t.Errorf("a reversal by an operator: %d", st)
	}
	if st, _, _ := post(ad, url.Values{"kind": {"reversed"}, "entry": {strconv.FormatInt(refundSeq, 10)}}); st != http.StatusBadRequest {
		t.Errorf("a reversal without its reason: %d", st)
	}
	if st, _, _ := post(ad, url.Values{"kind": {"reversed"}, "entry": {"999999"}, "note": {"x"}}); st != http.StatusBadRequest {
		t.Errorf("a reversal of no entry: %d", st)
	}
	if st, _, body := post(ad, reverse); st != http.StatusSeeOther {
		t.Fatalf("the reversal: %d %s", st, body)
	}
	if cs, err := c.svc.RecoveriesOf(ctx, zp.PID); err != nil || len(cs) != 1 || cs[0].Refund != 100050 || cs[0].Refunded != 0 {
		t.Errorf("after the reversal of the refund: %+v %v", cs, err)
	}
	if _, body := ad.get(zURL); !strings.Contains(body, "<s>") || !strings.Contains(body, "冲正") {
		t.Error("the person page does not show the reversed entry struck through")
	}
	if st, _, _ := post(ad, reverse); st != http.StatusConflict {
		t.Errorf("a second reversal of the same entry: %d", st)
	}
	if ps := problems(); len(ps) != 0 {
		t.Errorf("audit verify after the reversal: %+v", ps)
	}
	if st, _ := op.get("/recoveries?format=pdf"); st != http.StatusBadRequest {
		t.Errorf("an unknown export format: %d", st)
	}
	// For Excel: the ID number text (Excel keeps 15 digits of a number), amounts numbers.
	st, body = op.get("/recoveries?state=all&format=xlsx")
	x, err := excelize.OpenReader(strings.NewReader(body))
	if st != http.StatusOK || err != nil {
		t.Fatalf("the .xlsx export: %d %v", st, err)
	}
	defer x.Close()
	if typ, _ := x.GetCellType("Sheet1", "A2"); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
		t.Errorf("the ID number is not text in the .xlsx (%v)", typ)
	}
	for _, cell := range []string{"A2", "G2"} { // the ID number, the months: no money format
		if style, _ := x.GetCellStyle("Sheet1", cell); style != 0 {
			t.Errorf("%s has a style (%d), as money has", cell, style)
		}
	}
	// Money shown as money: 1000.50 and 0.00, not 1000.5 and 0 (a number format of
	// two decimals on every amount, H to O); the cell a number, its value exact.
	for col := 'H'; col <= 'O'; col++ {
		cell := string(col) + "2"
		if typ, _ := x.GetCellType("Sheet1", cell); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("the amount %s is not a number in the .xlsx (%v)", cell, typ)
		}
		id, err := x.GetCellStyle("Sheet1", cell)
		if err != nil {
			t.Fatal(err)
		}
		if style, err := x.GetStyle(id); err != nil || style.NumFmt != 2 {
			t.Errorf("the amount %s: style %d, %+v %v; want the number format 0.00 (2)", cell, id, style, err)
		}
		if v, _ := x.GetCellValue("Sheet1", cell); !regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`).MatchString(v) {
			t.Errorf("the amount %s reads %q, want yuan with two decimals", cell, v)
		}
	}
	if v, _ := x.GetCellValue("Sheet1", "K2"); v != "1000.50" { // repaid
		t.Errorf("the repayment reads %q, want 1000.50", v)
	}
	if v, _ := x.GetCellValue("Sheet1", "K2", excelize.Options{RawCellValue: true}); v != "1000.5" {
		t.Errorf("the repayment's stored value is %q, want the number 1000.5", v)
	}
	if v, _ := x.GetCellValue("Sheet1", "H2"); v != "0.00" { // nothing overpaid since the death was voided
		t.Errorf("the amount overpaid reads %q, want 0.00", v)
	}
	// District staff read their district's.
	if st, body := c.clientAs(t, "district").get("/recoveries?state=all"); st != http.StatusOK || !strings.Contains(body, "张三") {
		t.Errorf("the district's recovery list: %d", st)
	}
}

// clientAs is a client logged in as name.
func (c *city) clientAs(t *testing.T, name string) *client {
	cl := c.client(t)
	cl.login(name)
	return cl
}

// readFirst is the service's recoveries with a batch applied just after the console read
// a person's: what lands between a recovery form's read of what is owed and its
// transaction.
type readFirst struct {
	*service.Service
	onceHook
}

func (r *readFirst) RecoveriesOf(ctx context.Context, pid int64) ([]service.Recovery, error) {
	out, err := r.Service.RecoveriesOf(ctx, pid)
	r.take()
	return out, err
}

// TestRecoveryOwedInItsTransaction: a ledger entry is checked against what is owed as its
// own transaction sees the person, not as the form's handler read it a moment before, on
// both stores. 张三's death was reviewed away after his family repaid ¥6,000.00, which is
// due back; as an administrator records the refund, a second death report lands and
// disputes him again, and a disputed death's figures stand until its review: nothing is
// due back. The refund is refused (before, it was recorded against the figures read
// before the report, and the family paid back money it may owe).
func TestRecoveryOwedInItsTransaction(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t))
			clock := func() time.Time { return time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC) }
			rf := &readFirst{Service: c.svc}
			h, err := web.New(web.Options{DB: c.db, Auth: auth.New(c.db, auth.Options{Now: clock, Hash: auth.HashParams{Time: 1, Memory: 64, Threads: 1}}),
				Ingest: web.FromService(c.svc), Recoveries: rf, Now: clock, Today: func() sc.Date { return today }})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			wc := &city{db: c.db, svc: c.svc, srv: srv}
			ingest := func(source, rows string) {
				t.Helper()
				if _, err := c.svc.Ingest(ctx, service.Batch{Origin: "test", Source: source, Actor: "test", Day: today, Files: []service.File{{Name: "r.csv",
					Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date,detail\n" + rows)}}}); err != nil {
					t.Fatal(err)
				}
			}
			case1 := func() service.Recovery {
				t.Helper()
				cs, err := c.svc.RecoveriesOf(ctx, mustPID(t, c, zhang))
				if err != nil || len(cs) == 0 {
					t.Fatalf("张三's cases: %+v %v", cs, err)
				}
				for _, k := range cs {
					if k.Benefit == "EMP_PENSION" {
						return k
					}
				}
				t.Fatalf("no EMP_PENSION case: %+v", cs)
				return service.Recovery{}
			}
			zURL := fmt.Sprintf("/person/%d", mustPID(t, c, zhang))
			ingest("PSB", "D1,PSB,PSB.DEATH_DEREG,"+zhang+",2024-02-20,2024-05-10,\n")
			op := wc.clientAs(t, "operator")
			op.get(zURL)
			if st, _, body := op.post(zURL+"/recovery", url.Values{"csrf": {op.csrf}, "benefit": {"EMP_PENSION"}, "kind": {"repaid"}, "amount": {"6000.00"},
				"date": {"2024-05-09"}}); st != http.StatusSeeOther {
				t.Fatalf("the repayment: %d %s", st, body)
			}
			ingest("HEA", "V1,HEA,HEA.VACCINATION,"+zhang+",2024-05-08,2024-05-10,\n")
			ingest("HRSS", "R1,HRSS,HRSS.REVIEW,"+zhang+",2024-05-10,2024-05-10,accept=alive;ref=HEA:V1\n")
			if k := case1(); k.Refund != 600000 {
				t.Fatalf("after the review found him alive: %+v, want ¥6,000.00 due back", k)
			}

			ad := wc.clientAs(t, "admin")
			ad.get(zURL)
			rf.set(func() { ingest("PSB", "D2,PSB,PSB.DEATH_DEREG,"+zhang+",2024-02-20,2024-05-10,\n") })
			st, _, body := ad.post(zURL+"/recovery", url.Values{"csrf": {ad.csrf}, "benefit": {"EMP_PENSION"}, "kind": {"refunded"}, "amount": {"6000.00"},
				"note": {"转账 7781"}})
			if p, _ := c.db.PersonByID(ctx, zhang); p.Status != sc.StatusConflict {
				t.Fatalf("张三 is %s after the second death report, want CONFLICT", p.Status)
			}
			if st != http.StatusConflict || !strings.Contains(body, "6000.00 超过应退还家属的 0.00") {
				t.Errorf("a refund once nothing is due back: %d, want %d saying 0.00 is due back\n%s", st, http.StatusConflict, body)
			}
			if k := case1(); k.Refunded != 0 || k.Refund != 0 || k.Outstanding != 0 {
				t.Errorf("after the refused refund: %+v", k)
			}
			var n int
			if err := c.db.SQL().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'recovery' AND action = 'refunded'`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d refund audit rows (%v), want none", n, err)
			}
			// What the transaction reads is what the lists show.
			tx, err := c.db.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for _, b := range []string{"EMP_PENSION", "RES_PENSION"} {
				in, err := c.svc.ToRecoverIn(tx, mustPID(t, c, zhang), b)
				want := sc.Fen(0)
				if b == "EMP_PENSION" {
					want = case1().ToRecover
				}
				if err != nil || in != want || (b == "EMP_PENSION" && want != 600000) {
					t.Errorf("ToRecoverIn %s: %s %v, want %s (RecoveriesOf's)", b, in, err, want)
				}
			}
		})
	}
}

func mustPID(t *testing.T, c *city, personID string) int64 {
	t.Helper()
	p, err := c.db.PersonByID(context.Background(), personID)
	if err != nil {
		t.Fatal(err)
	}
	return p.PID
}
