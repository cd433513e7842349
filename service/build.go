package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// BuildIdentity names the running program: the Go version, the first 16 hex digits of
// the SHA-256 of its executable (the same binary, the same code, however it was built) and
// the source revision when the build recorded one. Two binaries that decide differently on
// the same inputs and model file have different identities, which a model's identity (its
// parameters) cannot tell apart.
func BuildIdentity() string {
	buildOnce.Do(func() {
		parts := []string{runtime.Version()}
		if exe, err := os.Executable(); err == nil {
			if f, err := os.Open(exe); err == nil {
				h := sha256.New()
				if _, err := io.Copy(h, f); err == nil {
					parts = append(parts, "bin:"+hex.EncodeToString(h.Sum(nil)[:8]))
				}
				f.Close()
			}
		}
		if bi, ok := debug.ReadBuildInfo(); ok {
			rev, dirty := "", false
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					dirty = s.Value == "true"
				}
			}
			if rev != "" {
				if len(rev) > 12 {
					rev = rev[:12]
				}
				if dirty {
					rev += "+modified"
				}
				parts = append(parts, "rev:"+rev)
			}
		}
		buildID = strings.Join(parts, " ")
	})
	return buildID
}

var (
	buildOnce sync.Once
	buildID   string
)

// build is the program's identity: Options.Build, or BuildIdentity.
func (s *Service) build() string {
	if s.opt.Build != "" {
		return s.opt.Build
	}
	return BuildIdentity()
}

// noteBuild writes the program's identity to meta "build" and, when it is another than
// the one there, a "build" row to the audit trail (from, to): which program made the
// decisions from when on, for the auditor. An upgrade is not refused.
func (s *Service) noteBuild(ctx context.Context, actor string) error {
	id := s.build()
	stored, ok, err := s.db.Meta(ctx, "build")
	if err != nil || (ok && stored == id) {
		return err
	}
	detail := "to=" + id
	if ok {
		detail = "from=" + stored + ";" + detail
	} else {
		detail += ";first=1"
	}
	return s.setNoted(ctx, "build", id, actor, detail)
}
