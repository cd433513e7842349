package web

import (
	"strings"
	"testing"
)

// Every reason models.reasons writes is shown in words in both languages, with its figure.
func TestRiskReasonsInWords(t *testing.T) {
	cat, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"zh-CN", "en"} {
		p := &Page{msgs: cat[lang]}
		for r, want := range map[string]string{
			"moved_3_types": "3", "traces_elsewhere_12d": "12", "in_person_gap_60d": "60",
			"in_person_missed_1.7": "1.7", "inconsistent_identity_2": "2", "age_87": "87",
			"visit_not_found": "", "hospital_stay_then_silence": "", "critical_admission_then_silence": "", "never_seen_in_person": "",
		} {
			got := p.riskReason(r)
			if got == r || (want != "" && !strings.Contains(got, want)) {
				t.Errorf("%s: reason %q shown as %q", lang, r, got)
			}
		}
	}
}
