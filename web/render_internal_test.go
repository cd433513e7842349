package web

import (
	"testing"

	"github.com/silentcert/silentcert/auth"
)

// TestShownDetail: the village assistant sees a record's or decision's detail without what
// medical and bank records say (diagnosis, amounts, health index, a flag's reasons);
// everyone else sees it whole.
func TestShownDetail(t *testing.T) {
	village := &Page{User: &auth.User{Role: auth.RoleVillage, Region: "371002001001"}}
	operator := &Page{User: &auth.User{Role: auth.RoleOperator}}
	for detail, want := range map[string]string{
		"critical=1; icd10 = I21 ;count=3;amount=12.5;agent=0":  "agent=0",
		"p_dead=0.420;reasons=silence|aged_86;health=0.210":     "",
		"p_alive=0.970;traces=MED.PHARMACY:3x0.2":               "",
		"until=2025-03-01;certified_on=2024-03-01":              "until=2025-03-01;certified_on=2024-03-01",
		"ICD10=I21;outcome=alive":                               "outcome=alive",
		"diagnosis=肺癌;诊断=晚期;records=MED:r1;score=0.42":          "",
		"outcome=death;event_date=2024-02-20;batch=7;applied=1": "outcome=death;event_date=2024-02-20;batch=7;applied=1",
	} {
		if got := village.ShownDetail(detail); got != want {
			t.Errorf("village: ShownDetail(%q) = %q, want %q", detail, got, want)
		}
		if got := operator.ShownDetail(detail); got != detail {
			t.Errorf("operator: ShownDetail(%q) = %q", detail, got)
		}
	}
}
