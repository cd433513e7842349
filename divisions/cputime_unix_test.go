//go:build linux || darwin || freebsd

package divisions

import "syscall"

// cpuSeconds returns the CPU time (user and system) the process has used, so that a
// benchmark on a shared machine can report throughput per CPU second as well as per
// wall-clock second.
func cpuSeconds() (float64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	sec := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return sec(ru.Utime) + sec(ru.Stime), true
}
