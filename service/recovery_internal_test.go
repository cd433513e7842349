package service

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// BenchmarkRecoveryCases: the console's recovery list scans every person's published
// case input. The golden scenario's people, copied to a million, listed whole.
func BenchmarkRecoveryCases(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "r.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := Open(ctx, db, Options{Now: func() time.Time { return time.Date(2024, 6, 30, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "bench"); err != nil {
		b.Fatal(err)
	}
	for d := sc.MustDate("2024-01-01"); d <= sc.MustDate("2024-06-01"); d++ {
		if err := s.RunDay(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Ingest(ctx, Batch{Origin: "bench", Source: "PSB", Actor: "bench", Day: sc.MustDate("2024-06-01"),
		Files: []File{{Name: "d.csv", Body: strings.NewReader("record_id,source,type,person_id,event_date,reported_date\nD1,PSB,PSB.DEATH_DEREG,371002194003150019,2024-02-20,2024-06-01\n")}}}); err != nil {
		b.Fatal(err)
	}
	var dead, living []*Person
	for _, p := range s.ppl {
		if in := s.caseInputOf(p); in != nil && len(s.casesOf(nil, in, nil, nil)) > 0 {
			dead = append(dead, p)
		} else {
			living = append(living, p)
		}
	}
	if len(dead) == 0 || len(living) == 0 {
		b.Fatal("the scenario lacks a recovery case or a living person")
	}
	// One person in every: a city's cases after two years are about 1 in 200 (the demo's
	// 15 of 3,000); one in four is far more than a city holds.
	for _, every := range []int{200, 4} {
		b.Run(fmt.Sprintf("1M-one-in-%d", every), func(b *testing.B) {
			const n = 1000000
			s.ppl = make([]*Person, n)
			for i := range s.ppl {
				p := *living[i%len(living)]
				if i%every == 0 {
					p = *dead[(i/every)%len(dead)]
				}
				p.PID = int64(i)
				s.ppl[i] = &p
			}
			s.pub.Store(nil) // published anew, the million
			s.publish(nil)
			for b.Loop() {
				if cs, err := s.recoveryCases(ctx, "", nil); err != nil || len(cs) == 0 {
					b.Fatal("no cases")
				}
			}
		})
	}
}
