package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progressLine shows a long command's progress on stderr. On a terminal it rewrites one
// line at most every half second; anywhere else (a log file, journald, CI) it writes whole
// lines at most every ten seconds, so that a log of a two-hour replay is a few hundred
// readable lines rather than one line of a million carriage returns. A nil *progressLine
// (--quiet) prints nothing.
type progressLine struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	every time.Duration
	last  time.Time
	shown bool
}

// newProgress returns the progress line of w, or nil when quiet.
func newProgress(w io.Writer, quiet bool) *progressLine {
	if quiet {
		return nil
	}
	p := &progressLine{w: w, every: 10 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 500*time.Millisecond
		}
	}
	return p
}

// show prints the progress unless the last was printed too recently; force prints it
// anyway (the last step of a phase).
func (p *progressLine) show(force bool, format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !force && p.shown && now.Sub(p.last) < p.every {
		return
	}
	p.last, p.shown = now, true
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K"+format, args...)
		return
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// done clears the line on a terminal, so that what follows starts on a clean line.
func (p *progressLine) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
	p.shown = false
}
