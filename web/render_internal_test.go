package web

import (
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// TestShownDetail: the village assistant sees a record's or decision's detail without what
// medical and bank records say (diagnosis, amounts, health index, a flag's reasons);
// everyone else sees it whole.
func TestShownDetail(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	village := &Page{User: &auth.User{Role: auth.RoleVillage, Region: "371002001001"}, msgs: cats["zh-CN"]}
	operator := &Page{User: &auth.User{Role: auth.RoleOperator}, msgs: cats["zh-CN"]}
	for detail, want := range map[string]string{
		"critical=1; icd10 = I21 ;count=3;amount=12.5;agent=1":  "由代办人协助",
		"p_dead=0.420;reasons=silence|aged_86;health=0.210":     "",
		"p_alive=0.970;traces=MED.PHARMACY:3x0.2":               "",
		"until=2025-03-01;certified_on=2024-03-01":              "认证有效期至：2025-03-01；认证日期：2024-03-01",
		"ICD10=I21;outcome=alive":                               "核实结果：本人健在（已见到本人）",
		"diagnosis=肺癌;诊断=晚期;records=MED:r1;score=0.42":          "",
		"outcome=death;event_date=2024-02-20;batch=7;applied=1": "核实结果：已死亡；日期：2024-02-20",
	} {
		if got := village.ShownDetail(detail); got != want {
			t.Errorf("village: ShownDetail(%q) = %q, want %q", detail, got, want)
		}
		if got := operator.ShownDetail(detail); got != detail {
			t.Errorf("operator: ShownDetail(%q) = %q", detail, got)
		}
	}
	// Chinese pairs are parted by a full-width semicolon, English ones by "; ".
	en := &Page{User: village.User, msgs: cats["en"]}
	if got, want := en.ShownDetail("until=2025-03-01;certified_on=2024-03-01"), "certified until: 2025-03-01; certified on: 2024-03-01"; got != want {
		t.Errorf("village, in English: %q, want %q", got, want)
	}
}

// TestMethodCoded: the village assistant sees a method's name, the bureau's staff its
// code beside it.
func TestMethodCoded(t *testing.T) {
	cats, _ := loadCatalogs()
	village := &Page{User: &auth.User{Role: auth.RoleVillage}, msgs: cats["zh-CN"]}
	operator := &Page{User: &auth.User{Role: auth.RoleOperator}, msgs: cats["zh-CN"]}
	if got := village.Method(sc.MethodCounter); got != "窗口认证" {
		t.Errorf("village: %q", got)
	}
	if got := operator.Method(sc.MethodCounter); got != "窗口认证 (COUNTER)" {
		t.Errorf("operator: %q", got)
	}
	if got := village.RuleName("§6 service period ended"); got != "认证有效期已满" {
		t.Errorf("the rule: %q", got)
	}
	if got := village.RuleName(service.RiskRule); got != "疑似冒领风险提示（不改变状态）" {
		t.Errorf("a RISK row's rule: %q", got)
	}
}

// TestReversedCaseOpen: a case whose only repayment was reversed is open again, not
// "partly recovered" (the reversed entry and its reversal stand for nothing).
func TestReversedCaseOpen(t *testing.T) {
	rec := service.Recovery{RecoveryCase: service.RecoveryCase{ToRecover: 100000},
		Entries: []store.RecoveryEntry{{Seq: 1, Kind: store.RecoveryRepaid, Amount: 50000}, {Seq: 2, Kind: store.RecoveryReversed, Amount: 50000, Reverses: 1}}}
	rec.Settlement = store.Settle(rec.Entries, "", 100000)
	rows, _ := recoveryRows([]service.Recovery{rec}, nil)
	if rows[0].State != "open" || !rows[0].Reversed[1] {
		t.Errorf("state %q, reversed %v", rows[0].State, rows[0].Reversed)
	}
}

// TestPaymentKind: a withheld month names why, in the reader's words.
func TestPaymentKind(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	p := &Page{msgs: cats["zh-CN"]}
	for kind, want := range map[string]string{"REGULAR": "已发放", "WITHHELD:SUSPENDED": "暂停发放(已暂停发放)"} {
		if got := p.PaymentKind(kind); got != want {
			t.Errorf("%s: %q, want %q", kind, got, want)
		}
	}
}

// TestRefundedCaseOpen: a case whose repayment was all refunded holds nothing against what
// is owed: open, not partly recovered.
func TestRefundedCaseOpen(t *testing.T) {
	rec := service.Recovery{RecoveryCase: service.RecoveryCase{ToRecover: 100000},
		Entries: []store.RecoveryEntry{{Seq: 1, Kind: store.RecoveryRepaid, Amount: 50000}, {Seq: 2, Kind: store.RecoveryRefunded, Amount: 50000}}}
	rec.Settlement = store.Settle(rec.Entries, "", 100000)
	if rows, _ := recoveryRows([]service.Recovery{rec}, nil); rows[0].State != "open" {
		t.Errorf("state %q", rows[0].State)
	}
}

// TestTypeNamePunctuation: a record type's name reads in the Chinese page with the
// page's full-width brackets and colon (村（社区）上门核实, as its 村（社区）核实 beside
// it; the catalogue's 村(社区)上门核实 showed ASCII ones), while the catalogue keeps
// exchange-v1 §4's names, which files carry; the English page shows them as written.
func TestTypeNamePunctuation(t *testing.T) {
	cat := sc.DefaultCatalogue()
	c := &console{opt: Options{Catalogue: cat}}
	zh, en := &Page{Lang: "zh-CN", c: c}, &Page{Lang: "en", c: c}
	for code, want := range map[string]string{"CMT.VISIT": "村（社区）上门核实", "CMT.MOVED": "村（社区）核实：已迁出"} {
		if got := zh.TypeName(code); got != want {
			t.Errorf("%s in the Chinese page: %q, want %q", code, got, want)
		}
		id, _ := cat.Lookup(code)
		if got := en.TypeName(code); got != cat.Type(id).Name || !strings.Contains(got, "村(社区)") {
			t.Errorf("%s in the English page: %q, want the catalogue's %q", code, got, cat.Type(id).Name)
		}
	}
}
