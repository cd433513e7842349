package citizen

import "testing"

// TestPlainDates: days and months as people say them, in both languages; what does not
// parse is shown as it came.
func TestPlainDates(t *testing.T) {
	for _, c := range []struct{ lang, in, day, month string }{
		{"zh-CN", "2024-05-03", "2024年5月3日", "2024-05-03"},
		{"en", "2024-05-03", "3 May 2024", "2024-05-03"},
		{"zh-CN", "2025-12", "2025-12", "2025年12月"},
		{"en", "2025-12", "2025-12", "Dec 2025"},
		{"zh-CN", "2025-13", "2025-13", "2025-13"},
	} {
		if got := plainDay(c.lang, c.in); got != c.day {
			t.Errorf("plainDay(%s, %s) = %q, want %q", c.lang, c.in, got, c.day)
		}
		if got := plainMonth(c.lang, c.in); got != c.month {
			t.Errorf("plainMonth(%s, %s) = %q, want %q", c.lang, c.in, got, c.month)
		}
	}
}
