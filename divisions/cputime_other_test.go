//go:build !(linux || darwin || freebsd)

package divisions

// cpuSeconds is not measured on this system.
func cpuSeconds() (float64, bool) { return 0, false }
