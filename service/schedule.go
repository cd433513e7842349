package service

import (
	"time"

	sc "github.com/silentcert/silentcert"
)

// DueThrough returns the last day whose run is due at now in loc, given the hour of the
// day the run starts: today once that hour has come, yesterday before it. The scheduler
// catches up every day from the last run through this one.
func DueThrough(now time.Time, loc *time.Location, hour int) sc.Date {
	t := now.In(loc)
	d := dayOf(t)
	if t.Hour() < hour {
		d--
	}
	return d
}
