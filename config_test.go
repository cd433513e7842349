package silentcert

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestParseConfigExample(t *testing.T) {
	data, err := os.ReadFile("config.example.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig("config.example.json", data)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := cfg.Catalogue.Lookup("MED.DIALYSIS")
	if !ok || cfg.Catalogue.Type(id).Class != ClassStrong || cfg.Catalogue.Type(id).Method != MethodStrong {
		t.Errorf("new type not added as STRONG")
	}
	id, _ = cfg.Catalogue.Lookup("TRN.TRANSIT")
	if tr := cfg.Catalogue.Type(id); tr.Weight != 0.5 || tr.Class != ClassWeak || tr.Source != "TRN" {
		t.Errorf("override lost the rest of the type: %+v", tr)
	}
	id, _ = cfg.Catalogue.Lookup("UTIL.PAYMENT")
	if !cfg.Catalogue.Type(id).Off {
		t.Errorf("type not switched off")
	}
	if !cfg.BenefitKnown([]byte("MARTYR_FAMILY")) || !cfg.BenefitKnown([]byte("EMP_PENSION")) {
		t.Errorf("benefits: %+v", cfg.Benefits)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"policy":{"warning_month":2}}`:                                   "unknown field",
		`{"policy":{"min_period_months":0}}`:                               "min_period_months",
		`{"policy":{"max_period_months":300,"default_period_months":258}}`: "max_period_months must be at most 120",
		`{"policy":{"default_period_months":100000}}`:                      "default_period_months must be from 1 to 120",
		`{"policy":{}}}`: "text after the configuration's end",
		`{"policy":{}} {"policy":{"grace_months":3}}`:                           "text after the configuration's end",
		`{"weak":{"min_days":1}}`:                                               "one trace never certifies",
		`{"catalogue":{"types":[{"code":"X.Y"}]}}`:                              "needs source and class",
		`{"catalogue":{"types":[{"code":"X.Y","source":"","class":"DEATH"}]}}`:  "catalogue.types[0]: type X.Y: source is empty",
		`{"catalogue":{"types":[{"code":"X.Y","source":"X","class":"MAYBE"}]}}`: "not one of",
		`{"catalogue":{"types":[{"code":"HRSS.FACE","method":"WEAK"}]}}`:        "not one of",
		`{"benefits":{"codes":[{"name":"无代码"}]}}`:                               "code is empty",
		`[1,2]`: "cannot unmarshal",
	} {
		_, err := ParseConfig("c.json", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "c.json") {
			t.Errorf("%s: error %v, want it to name the file and say %q", in, err, want)
		}
	}
}

// TestCanonicalJSON: the configuration's canonical form names every rule that decides,
// the class and method of each type included (a type made STRONG by a file must show),
// reads back to the same configuration, and is the same for two files that mean the same
// (the defaults written out, or left out).
func TestCanonicalJSON(t *testing.T) {
	def := DefaultConfig().CanonicalJSON()
	for _, want := range []string{`"grace_months":1`, `{"code":"TEL.ACTIVITY","source":"TEL","class":"WEAK","spoofable":true,`,
		`"class":"STRONG","spoofable":false,"critical_weak":false,"moves":false,"weight":1,"method":"FACE"`, `"replace":true`,
		`{"code":"EMP_PENSION","name":"企业职工基本养老金"}`} {
		if !bytes.Contains(def, []byte(want)) {
			t.Errorf("the defaults' canonical form lacks %s:\n%s", want, def)
		}
	}
	example, err := os.ReadFile("config.example.json")
	if err != nil {
		t.Fatal(err)
	}
	// A key the project added, off by default, is left out of the canonical form when
	// off: a database's recorded configuration keeps its print (CheckConfig).
	if bytes.Contains(def, []byte("back_pay_voided_death")) {
		t.Errorf("the defaults' canonical form names back_pay_voided_death: %s", def)
	}
	for _, f := range []string{`{}`, string(example), string(def),
		`{"policy":{"back_pay_voided_death":true}}`,
		`{"policy":{"grace_months":0},"catalogue":{"types":[{"code":"TEL.ACTIVITY","class":"STRONG"}]}}`} {
		c, err := ParseConfig("c.json", []byte(f))
		if err != nil {
			t.Fatal(err)
		}
		canon := c.CanonicalJSON()
		back, err := ParseConfig("canonical.json", canon)
		if err != nil {
			t.Fatalf("%s: its canonical form is refused: %v", f, err)
		}
		if !bytes.Equal(back.CanonicalJSON(), canon) {
			t.Errorf("%s: its canonical form reads back as another", f)
		}
		if strings.Contains(f, `"back_pay_voided_death":true`) != c.Policy.BackPayVoidedDeath || c.Policy.BackPayVoidedDeath != bytes.Contains(canon, []byte(`"back_pay_voided_death":true`)) {
			t.Errorf("%s: back_pay_voided_death %v, canonical %s", f, c.Policy.BackPayVoidedDeath, canon)
		}
		if f == "{}" && !bytes.Equal(canon, def) {
			t.Errorf("{} and the defaults differ:\n%s\n%s", canon, def)
		}
		if strings.Contains(f, `"class":"STRONG"}`) && !bytes.Contains(canon, []byte(`{"code":"TEL.ACTIVITY","source":"TEL","class":"STRONG","spoofable":true,"critical_weak":false,"moves":false,"weight":1,"method":"STRONG"`)) {
			t.Errorf("TEL.ACTIVITY made STRONG does not show: %s", canon)
		}
	}
}

func TestDefaultCatalogueMatchesSpec(t *testing.T) {
	c := DefaultCatalogue()
	if c.Len() != 37 {
		t.Errorf("%d types, spec §4 lists 37", c.Len())
	}
	spoofable := map[string]bool{"MED.PHARMACY": true, "HRSS.CARD_SPEND": true, "TEL.ACTIVITY": true, "BANK.TXN": true, "UTIL.PAYMENT": true}
	for _, tp := range c.Types() {
		if tp.Spoofable != spoofable[tp.Code] {
			t.Errorf("%s spoofable %v", tp.Code, tp.Spoofable)
		}
		if !strings.HasPrefix(tp.Code, tp.Source+".") {
			t.Errorf("%s from source %s", tp.Code, tp.Source)
		}
	}
	for code, m := range map[string]Method{"HRSS.FACE": MethodFace, "HRSS.COUNTER": MethodCounter, "CMT.VISIT": MethodCommunity, "TRN.RAIL": MethodStrong} {
		id, _ := c.Lookup(code)
		if c.Type(id).Method != m {
			t.Errorf("%s method %s", code, c.Type(id).Method)
		}
	}
	id, _ := c.Lookup("MED.INPATIENT")
	if c.ClassOf(id, false) != ClassStrong || c.ClassOf(id, true) != ClassWeak {
		t.Errorf("MED.INPATIENT critical=1 must be WEAK")
	}
}

// FuzzParseConfig: a configuration file of any bytes is read or refused with an error
// naming the file, never a panic; what is read has a catalogue and a valid policy.
func FuzzParseConfig(f *testing.F) {
	if b, err := os.ReadFile("config.example.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"catalogue": {"replace": true, "types": [{"code": "X.Y", "source": "X", "class": "WEAK"}]}}`))
	f.Add([]byte(`{"policy": {"max_period_months": -1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig("fuzz.json", b)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		if c.Catalogue == nil {
			t.Fatal("read without a catalogue")
		}
		// What is read, written canonically, reads back as the same configuration.
		canon := c.CanonicalJSON()
		back, err := ParseConfig("canonical.json", canon)
		if err != nil {
			t.Fatalf("the canonical form of %s is refused: %v\n%s", b, err, canon)
		}
		if again := back.CanonicalJSON(); !bytes.Equal(again, canon) {
			t.Fatalf("the canonical form of %s reads back as another:\n%s\n%s", b, canon, again)
		}
	})
}
