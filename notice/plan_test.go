package notice

import (
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
)

func TestPlan(t *testing.T) {
	day := sc.MustDate("2025-01-31")
	until := sc.MustDate("2025-03-31")
	rec := func(phone, agent string) *sc.Recipient {
		return &sc.Recipient{PersonID: "37100219400101001X", Name: "王秀英", Phone: phone, AgentPhone: agent}
	}
	linked := DefaultConfig()
	linked.Link = "https://rz.example.gov.cn"
	confirm := DefaultConfig()
	confirm.Confirm = true
	signIn := linked
	signIn.SignIn = true
	type want struct {
		phone, key string
		deadline   string
		contains   []string
	}
	for _, tc := range []struct {
		name string
		rec  *sc.Recipient
		d    Decision
		cfg  Config
		want []want
	}{
		{"warning to the person and the agent", rec("138 0013 8000", "+86 139-0013-9000"),
			Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusWarning}, DefaultConfig(),
			[]want{{"13800138000", "warning", "2025-04-30", []string{"王秀英您好", "最迟于2025年4月30日", "掌上12333", "便民服务点"}},
				{"13900139000", "warning_agent", "2025-04-30", []string{"您代办的王秀英", "2025年4月30日"}}}},
		{"warning without an agent", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusWarning}, DefaultConfig(),
			[]want{{"13800138000", "warning", "2025-04-30", nil}}},
		{"the agent's phone is the person's", rec("13800138000", "138-0013-8000"),
			Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusWarning}, DefaultConfig(),
			[]want{{"13800138000", "warning", "2025-04-30", nil}}},
		{"only an agent", rec("", "13900139000"),
			Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusWarning}, DefaultConfig(),
			[]want{{"13900139000", "warning_agent", "2025-04-30", nil}}},
		{"no phone", rec("", ""),
			Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusWarning}, DefaultConfig(), nil},
		{"a landline gets no SMS", rec("0631-5201234", ""),
			Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusWarning}, DefaultConfig(), nil},
		{"terminated the same day", rec("13800138000", "13900139000"),
			Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusTerminated}, DefaultConfig(), nil},
		{"in conflict", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActPending, Until: until, Status: sc.StatusConflict}, DefaultConfig(), nil},
		{"the TERMINATED row itself", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActTerminated, Until: until, Status: sc.StatusTerminated}, DefaultConfig(), nil},
		{"pending: the same deadline", rec("13800138000", ""),
			Decision{Day: until + 1, Action: sc.ActPending, Until: until, Status: sc.StatusPending}, DefaultConfig(),
			[]want{{"13800138000", "pending", "2025-04-30", []string{"已到期", "2025年4月30日"}}}},
		{"suspended: since the day", rec("13800138000", ""),
			Decision{Day: sc.MustDate("2025-05-01"), Action: sc.ActSuspended, Until: until, Status: sc.StatusSuspended}, DefaultConfig(),
			[]want{{"13800138000", "suspended", "2025-04-30", []string{"自2025年5月1日起暂停", "补发"}}}},
		{"a link configured", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusWarning}, linked,
			[]want{{"13800138000", "warning", "2025-04-30", []string{"https://rz.example.gov.cn"}}}},
		{"no grace", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusWarning}, Config{Templates: DefaultTemplates()},
			[]want{{"13800138000", "warning", "2025-03-31", nil}}},
		{"unknown until", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActPending, Until: sc.NoDate, Status: sc.StatusPending}, DefaultConfig(), nil},
		{"certified: off by default", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActCertified, Method: sc.MethodStrong, Until: until + 365, Reminded: true, Status: sc.StatusCertified}, DefaultConfig(), nil},
		{"certified silently after a reminder", rec("13800138000", "13900139000"),
			Decision{Day: day, Action: sc.ActCertified, Method: sc.MethodWeak, Until: sc.MustDate("2026-01-20"), Reminded: true, Status: sc.StatusCertified}, confirm,
			[]want{{"13800138000", "certified", "2026-01-20", []string{"静默认证", "有效期至2026年1月20日"}},
				{"13900139000", "certified_agent", "2026-01-20", nil}}},
		{"certified in person: no confirmation", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActCertified, Method: sc.MethodFace, Until: until + 365, Reminded: true, Status: sc.StatusCertified}, confirm, nil},
		{"certified without a reminder before", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActCertified, Method: sc.MethodStrong, Until: until + 365, Status: sc.StatusCertified}, confirm, nil},
		{"certified by a late record, still in the window", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActCertified, Method: sc.MethodStrong, Until: until, Reminded: true, Status: sc.StatusWarning}, confirm, nil},
		{"a reminder answered in the same transaction", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActPending, Until: until + 365, Status: sc.StatusCertified}, DefaultConfig(), nil},
		{"the engine's suspension day wins over the grace", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActWarning, Until: until, SuspendFrom: sc.MustDate("2025-05-31"), Status: sc.StatusWarning}, DefaultConfig(),
			[]want{{"13800138000", "warning", "2025-05-30", []string{"2025年5月30日"}}}},
		{"resumed says nothing more", rec("13800138000", ""),
			Decision{Day: day, Action: sc.ActResumed, Until: until, Status: sc.StatusCertified}, DefaultConfig(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Plan(tc.rec, 42, tc.d, tc.cfg)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d notices, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				n := got[i]
				if n.Phone != w.phone || n.Template != w.key || n.Deadline.String() != w.deadline || n.PID != 42 ||
					n.PersonID != tc.rec.PersonID || n.Created != tc.d.Day || n.NextAttempt != DayStart(tc.d.Day) ||
					n.Kind != strings.TrimSuffix(w.key, "_agent") {
					t.Errorf("notice %d: %+v, want %+v", i, n, w)
				}
				for _, s := range w.contains {
					if !strings.Contains(n.Text, s) {
						t.Errorf("notice %d: text %q lacks %q", i, n.Text, s)
					}
				}
				if strings.ContainsAny(n.Text, "{}") {
					t.Errorf("notice %d: a placeholder left in %q", i, n.Text)
				}
			}
		})
	}
	// With sign-in links, each reminder keeps the slot its sender fills (no link is
	// stored); a confirmation, which asks for nothing, keeps the configured address.
	two := Plan(rec("13800138000", "13900139000"), 42, Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusWarning}, signIn)
	if len(two) != 2 || !strings.Contains(two[0].Text, "或"+LinkSlot+"人脸") || !strings.Contains(two[1].Text, LinkSlot) ||
		strings.Contains(two[0].Text, "rz.example") || strings.Contains(two[1].Text, "rz.example") {
		t.Errorf("sign-in links: %+v", two)
	}
	// A name with braces is not a placeholder.
	odd := rec("13800138000", "")
	odd.Name = "王{link}英"
	if ns := Plan(odd, 42, Decision{Day: day, Action: sc.ActWarning, Until: until, Status: sc.StatusWarning}, signIn); len(ns) != 1 ||
		strings.Count(ns[0].Text, LinkSlot) != 1 || !strings.Contains(ns[0].Text, "王｛link｝英") {
		t.Errorf("a name with braces: %+v", ns)
	}
	signIn.Confirm = true
	conf := Plan(rec("13800138000", ""), 42, Decision{Day: day, Action: sc.ActCertified, Method: sc.MethodStrong, Until: until,
		Status: sc.StatusCertified, Reminded: true}, signIn)
	if len(conf) != 1 || strings.Contains(conf[0].Text, LinkSlot) {
		t.Errorf("confirmation with sign-in links: %+v", conf)
	}
}

func TestTemplates(t *testing.T) {
	if err := DefaultTemplates().Validate(); err != nil {
		t.Fatal(err)
	}
	tpl, err := ParseTemplates("t.json", []byte(`{"warning": "{name}：请于{deadline}前认证。{how}", "how": "请打{link}"}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Templates = tpl
	rec := &sc.Recipient{Name: "李{how}", Phone: "13800138000"}
	ns := Plan(rec, 1, Decision{Day: 10, Action: sc.ActWarning, Until: 40, Status: sc.StatusWarning}, cfg)
	if len(ns) != 1 || ns[0].Text != "李{how}：请于1970年3月10日前认证。请打" {
		t.Fatalf("rendered %+v", ns)
	}
	if tpl[KindPending] != DefaultTemplates()[KindPending] {
		t.Fatal("a key left out of the file lost its default")
	}
	for _, c := range []struct{ in, want string }{
		{`{"warnin": "x"}`, `t.json: unknown template key "warnin"`},
		{`{"warning": "{nmae}"}`, `t.json: template "warning": unknown placeholder {nmae}`},
		{`{"how": "{how}"}`, `template "how": unknown placeholder {how}`},
		{`{"pending": " "}`, `template "pending" is empty`},
		{`{"pending": "{name"}`, `never closed`},
		{`["x"]`, `t.json: want a JSON object`},
	} {
		_, err := ParseTemplates("t.json", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) || sc.ErrorCode(err) != sc.EInvalid {
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
}

func TestPhones(t *testing.T) {
	for _, c := range []struct{ in, norm, mask string }{
		{"13800138000", "13800138000", "138****8000"},
		{"+86 138-0013-8000", "13800138000", "+86**********8000"},
		{"008613800138000", "13800138000", "008********8000"},
		{"0631-5201234", "", "063*****1234"},
		{"12345678901", "", "123****8901"},
		{"1380013800", "", "138***3800"},
		{"13800l38000", "", "138****8000"},
		{"1234567", "", "*******"},
		{"", "", ""},
	} {
		if got := NormalizePhone(c.in); got != c.norm {
			t.Errorf("NormalizePhone(%q) = %q, want %q", c.in, got, c.norm)
		}
		if got := idcard.MaskPhone(c.in); got != c.mask {
			t.Errorf("MaskPhone(%q) = %q, want %q", c.in, got, c.mask)
		}
	}
}

func TestConfig(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		h     int
		quiet bool
	}{{20, false}, {21, true}, {0, true}, {7, true}, {8, false}, {12, false}} {
		at := DayStart(sc.MustDate("2025-01-01")) + int64(c.h)*3600
		cfg := DefaultConfig()
		if got := cfg.Quiet(unix(at)); got != c.quiet {
			t.Errorf("%d:00 quiet %v, want %v", c.h, got, c.quiet)
		}
	}
	day := DefaultConfig()
	day.QuietStart, day.QuietEnd = 12, 14
	if !day.Quiet(unix(DayStart(100)+13*3600)) || day.Quiet(unix(DayStart(100)+14*3600)) {
		t.Error("a quiet window within the day")
	}
	c.MaxBackoff = 5 * c.Backoff
	for i, want := range []int{1, 2, 4, 5, 5} {
		if got := c.backoff(i + 1); got != c.Backoff*time.Duration(want) {
			t.Errorf("backoff after try %d: %v", i+1, got)
		}
	}
	c.QuietEnd = 24
	if c.Validate() == nil {
		t.Error("hour 24 accepted")
	}
	if DayOf(unix(DayStart(sc.MustDate("1969-12-31")))) != sc.MustDate("1969-12-31") ||
		DayOf(unix(DayStart(20000)-1)) != 19999 {
		t.Error("DayOf")
	}
}

// FuzzParseTemplates: a templates file of any bytes is read or refused with an error,
// never a panic; what is read renders every key with any values.
func FuzzParseTemplates(f *testing.F) {
	f.Add([]byte(`{"warning": "{name}：请于{deadline}前认证。{how}", "how": "请打{link}"}`))
	f.Add([]byte(`{"warning": "{name"}`))
	f.Add([]byte(`{"how": "{how}"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tpl, err := ParseTemplates("fuzz.json", b)
		if err != nil {
			return
		}
		v := map[string]string{"name": "{how}", "deadline": "2025年3月31日", "until": "", "day": "{", "link": "/c/x"}
		for _, k := range allKeys() {
			tpl.render(k, v)
		}
	})
}
