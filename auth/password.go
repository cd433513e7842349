package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	sc "github.com/silentcert/silentcert"
)

// HashParams is the cost of argon2id: passes over memory, memory in KiB, and lanes.
type HashParams struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultHash is OWASP's second argon2id setting (m=19 MiB, t=2, p=1). On the project's
// 2-core machine one hash takes 23 ms, against 32 ms for OWASP's m=46 MiB, t=1 and
// 190 ms for m=64 MiB, t=3 (BenchmarkLoginFailed; the others measured once): logins stay
// quick, a guesser with the table pays 19 MiB of memory per guess, and a burst of logins,
// one hash per core at a time, holds at most 2 × 19 MiB.
var DefaultHash = HashParams{Time: 2, Memory: 19 * 1024, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32

	// MinPasswordLen is the shortest staff password, in characters. Length is what
	// resists guessing; no composition rules (NIST SP 800-63B).
	MinPasswordLen = 10
	maxPasswordLen = 256 // bytes: hashing cost must not be set by the caller
)

// hashPassword returns password's argon2id hash in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), which carries its own salt and parameters.
func (a *Service) hashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	p := a.opt.Hash
	release, err := a.acquireHash(ctx)
	if err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verifyPassword reports whether password matches encoded, and whether encoded was made
// with other parameters than the current ones (so that it should be hashed again).
func (a *Service) verifyPassword(ctx context.Context, encoded, password string) (ok, stale bool, err error) {
	p, salt, key, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	release, err := a.acquireHash(ctx)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	release()
	return subtle.ConstantTimeCompare(got, key) == 1, p != a.opt.Hash, nil
}

// acquireHash waits for a hashing slot: at most one argon2 computation per core at once,
// so that a flood of logins queues instead of taking 19 MiB per request.
func (a *Service) acquireHash(ctx context.Context) (func(), error) {
	select {
	case a.hashing <- struct{}{}:
		return func() { <-a.hashing }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// parsePHC reads an argon2id PHC string, refusing parameters that would make one
// verification cost more than a stored hash ever should (a tampered row).
func parsePHC(s string) (p HashParams, salt, key []byte, err error) {
	bad := func(why string) error { return sc.Errorf(sc.EInternal, "stored password hash: %s", why) }
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, bad("not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, bad("unknown argon2 version")
	}
	var m, t, th uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil || n != 3 {
		return p, nil, nil, bad("unreadable parameters")
	}
	if t < 1 || t > 16 || th < 1 || th > 16 || m < 8*th || m > 1<<20 {
		return p, nil, nil, bad("parameters out of range")
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, bad("bad salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, bad("bad hash")
	}
	return HashParams{Time: t, Memory: m, Threads: uint8(th)}, salt, key, nil
}

// common are passwords long enough to pass the length rule that guessers try first.
var common = map[string]bool{
	"1234567890": true, "0123456789": true, "12345678910": true, "123456789012": true,
	"0987654321": true, "1qaz2wsx3edc": true, "qwertyuiop": true, "1q2w3e4r5t": true,
	"password12": true, "password123": true, "password1234": true, "passw0rd12": true,
	"a123456789": true, "abc1234567": true, "abcdefghij": true, "iloveyou12": true,
	"admin12345": true, "administrator": true, "woaini1314": true, "5201314520": true,
	"1314520520": true, "qwerty1234": true, "qwe1234567": true,
}

// CheckPassword returns why password is not fit for the account name, or nil: at least
// MinPasswordLen characters, at most 256 bytes, not the name, not one repeated character,
// not one of the commonest passwords.
func CheckPassword(name, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return sc.Errorf(sc.EInvalid, "the password is not valid UTF-8")
	case n < MinPasswordLen:
		return sc.Errorf(sc.EInvalid, "the password needs at least %d characters", MinPasswordLen)
	case len(password) > maxPasswordLen:
		return sc.Errorf(sc.EInvalid, "the password may have at most %d bytes", maxPasswordLen)
	case strings.Contains(strings.ToLower(password), strings.ToLower(name)) && n-utf8.RuneCountInString(name) < MinPasswordLen:
		return sc.Errorf(sc.EInvalid, "the password must not be the account name")
	case repeated(password):
		return sc.Errorf(sc.EInvalid, "the password must not be one character repeated")
	case common[strings.ToLower(password)]:
		return sc.Errorf(sc.EInvalid, "the password is one of the commonest: choose another")
	}
	for _, r := range password {
		if unicode.IsControl(r) {
			return sc.Errorf(sc.EInvalid, "the password must not contain control characters")
		}
	}
	return nil
}

// repeated reports whether s is one character written again and again.
func repeated(s string) bool {
	_, size := utf8.DecodeRuneInString(s)
	return strings.Count(s, s[:size])*size == len(s)
}
