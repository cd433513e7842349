package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// batchMemory is how many times its size a batch of CSV takes in memory while it is
// applied: every record of it is held at once (read, ordered as spec §7 orders the whole
// batch, stored and applied in one transaction), measured at 13–22 times the file's size
// (bench/resend.sh, 994,000 records: PostgreSQL 13–16×, SQLite 17–22× with its cache).
const batchMemory = 24

// defaultMaxBody is serve's --max-body when none is given: 1 GiB, or less on a machine
// whose memory could not take a batch that large in half of it (the other half is the
// people's states, the database, the rest of the machine). mem is the machine's memory
// in bytes (0: unknown).
func defaultMaxBody(mem int64) int64 {
	const most = 1 << 30
	if mem <= 0 {
		return most
	}
	return min(most, mem/2/batchMemory)
}

// memTotal is the machine's memory in bytes as /proc/meminfo gives it (0 where it does
// not).
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// byteSize says n bytes in the largest binary unit that keeps a whole number before the
// point: 512 B, 3.0 KiB, 96.4 MiB, 1.0 GiB.
func byteSize(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + units[i:i+1] + "iB"
}
