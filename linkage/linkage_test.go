package linkage

import (
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/idcard"
)

// id returns a valid ID number for the first 17 characters given.
func id(first17 string) string { return first17 + string(idcard.CheckChar([]byte(first17))) }

func roster() []*sc.Recipient {
	mk := func(pid, name, birth, region string) *sc.Recipient {
		return &sc.Recipient{PersonID: pid, Name: name, BirthDate: sc.MustDate(birth), RegionCode: region}
	}
	return []*sc.Recipient{
		mk(id("37100219400101001"), "张三", "1940-01-01", "371002001001"),
		mk(id("37100219450315002"), "李秀英", "1945-03-15", "371002002003"),
		mk(id("37108219450315004"), "李秀英", "1945-03-15", "371082100201"), // same name and birth, another county
		mk(id("65010219500101003"), "阿依古丽·买买提", "1950-01-01", "650102001001"),
		mk(id("37100219380707001"), "王芳", "1938-07-07", "371002001002"),
	}
}

func TestLink(t *testing.T) {
	ix := New(roster())
	var s Scratch
	zhang := id("37100219400101001")
	lower := []byte(zhang)
	cases := []struct {
		name              string
		pid, nm, birth, r string
		want              Outcome
		person            uint32
	}{
		{"id only", zhang, "", "", "", Linked, 0},
		{"id and name", zhang, "张三", "", "", Linked, 0},
		{"name with spaces and full-width", zhang, " 张 三　", "", "", Linked, 0},
		{"name mismatch held", zhang, "张四", "", "", HeldName, 0},
		{"valid id not on roster", id("37100219400101009"), "张三", "1940-01-01", "", NotOnRoster, 0},
		{"bad check digit falls back", zhang[:17] + "0", "张三", "1940-01-01", "", Linked, 0},
		{"15-digit id falls back", "371002400101001", "王芳", "1938-07-07", "", Linked, 4},
		{"missing id falls back", "", "王芳", "1938-07-07", "", Linked, 4},
		{"fallback needs birth", "", "王芳", "", "", NotEnoughData, 0},
		{"fallback no match", "", "王芳", "1938-07-08", "", NoMatch, 0},
		{"fallback ambiguous", "", "李秀英", "1945-03-15", "", Ambiguous, 0},
		{"region breaks the tie", "", "李秀英", "1945-03-15", "371082", Linked, 2},
		{"region too wide", "", "李秀英", "1945-03-15", "37", Ambiguous, 0},
		{"region matches none", "", "李秀英", "1945-03-15", "3701", Ambiguous, 0},
		{"middle dot variants", "", "阿依古丽 · 买买提", "1950-01-01", "", Linked, 3},
		{"middle dot dropped", "", "阿依古丽买买提", "1950-01-01", "", Linked, 3},
		{"spaced middle dot", id("65010219500101003"), "阿依古丽 · 买买提", "", "", Linked, 3},
		// Spec §3 removes the middle dot ·; a name written with another dot disagrees.
		{"katakana middle dot held", id("65010219500101003"), "阿依古丽・买买提", "", "", HeldName, 3},
		{"bullet held", id("65010219500101003"), "阿依古丽•买买提", "", "", HeldName, 3},
	}
	lower[17] = 'x'
	for _, c := range cases {
		birth := sc.NoDate
		if c.birth != "" {
			birth = sc.MustDate(c.birth)
		}
		p, got := ix.Link([]byte(c.pid), []byte(c.nm), birth, []byte(c.r), &s)
		if got != c.want || (got == Linked || got == HeldName) && p != c.person {
			t.Errorf("%s: got %v person %d, want %v person %d", c.name, got, p, c.want, c.person)
		}
	}
}

func TestLowerCaseX(t *testing.T) {
	first17 := "11010519491231002"
	pid := id(first17)
	if pid[17] != 'X' {
		t.Skip("vector has no X")
	}
	ix := New([]*sc.Recipient{{PersonID: pid, Name: "赵六", BirthDate: sc.MustDate("1949-12-31")}})
	var s Scratch
	if p, out := ix.Link([]byte(first17+"x"), []byte("赵六"), sc.NoDate, nil, &s); out != Linked || p != 0 {
		t.Fatalf("lower-case x: %v", out)
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"张三": "张三", " 张三 ": "张三", "张　三": "张三", "ＺＨＡＮＧ": "ZHANG", "阿依古丽·买买提": "阿依古丽买买提",
		"Ａ·Ｂ": "AB", "李 秀 英": "李秀英",
	} {
		if got := NormalizeName(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

func BenchmarkLinkByID(b *testing.B) {
	ix := New(roster())
	var s Scratch
	pid, name := []byte(id("37100219450315002")), []byte("李秀英")
	b.ReportAllocs()
	for b.Loop() {
		if _, out := ix.Link(pid, name, sc.NoDate, nil, &s); out != Linked {
			b.Fatal(out)
		}
	}
}
