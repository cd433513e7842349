package exchange

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

const (
	// detectSize is how much of a file decides its encoding (spec §1: the first 64 KiB).
	detectSize = 64 << 10
	// initialBuf is the first size of the text buffer; it grows only for long rows.
	initialBuf = 128 << 10
	// maxRowBytes bounds one row (all its physical lines) held in memory: a longer one is
	// quarantined as malformed, so that a stray quote cannot make a reader swallow a file.
	maxRowBytes = 4 << 20
)

var (
	utf8BOM     = []byte("\xEF\xBB\xBF")
	replacement = []byte("\xEF\xBF\xBD") // U+FFFD as the GB decoder writes it for bad bytes
)

// textBuf is the text of one file, decoded to UTF-8 and read in chunks: buf[r:w] is the
// text not consumed yet. For a UTF-8 file buf holds the bytes as read (no copy); for GBK
// and GB18030 they pass through raw and a decoder first. Invalid bytes are not errors here:
// a UTF-8 file keeps them (valid tells), a GB file gets U+FFFD for them, so that the row
// holding them can be quarantined while the rest of the file loads.
type textBuf struct {
	src    io.Reader
	enc    string
	dec    transform.Transformer // nil for UTF-8
	raw    []byte                // GB only: raw[rr:rw] is read but not decoded yet
	rr, rw int
	buf    []byte
	r, w   int
	srcEOF bool  // src returned io.EOF
	err    error // src returned another error; reported when the text before it is used up
	empty  int   // consecutive empty reads, to stop a reader that never makes progress

	// The head's shape, for a file-level refusal that names the cause: lines ended by CR
	// alone (an old exporter), and UTF-16 (a byte-order mark, or NUL bytes).
	crOnly, utf16 bool
	// overruled is the forced GB encoding not applied because the file is evidently UTF-8
	// (evidentUTF8); "" when none was.
	overruled string
	// detected: no encoding was forced, the head decided it.
	detected bool
}

// initText reads the start of src, settles the encoding (forced, or detected as spec §1
// says) and makes the text ready. forced is "" to detect.
func (t *textBuf) initText(src io.Reader, forced string) {
	t.src = src
	t.buf = make([]byte, initialBuf)
	n := 0
	for n < detectSize && !t.srcEOF && t.err == nil {
		m, err := src.Read(t.buf[n:detectSize])
		n += m
		t.noteRead(m, err)
	}
	head := t.buf[:n]
	t.crOnly = bytes.IndexByte(head, '\n') < 0 && bytes.IndexByte(bytes.TrimRight(head, "\r"), '\r') >= 0
	// UTF-16: its byte-order mark, or ASCII text with every other byte NUL (a NUL or two in
	// a UTF-8 row is that row's problem, quarantined by field).
	start := head[:min(len(head), 64)]
	t.utf16 = bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) ||
		(len(start) >= 8 && bytes.Count(start, []byte{0})*3 >= len(start))
	enc := forced
	t.detected = forced == ""
	switch {
	case enc == "":
		enc = detectEncoding(head, t.srcEOF)
	case enc != EncodingUTF8 && evidentUTF8(head, t.srcEOF):
		// The operator's --encoding gbk names the departments' exports; the agency's own
		// roster beside them is UTF-8, and read as GBK its names would all be garbage
		// (every record naming them held as a name mismatch).
		t.overruled, enc = enc, EncodingUTF8
	}
	t.enc = enc
	if enc == EncodingUTF8 {
		t.w = n
		return
	}
	// GBK is read as GB18030, its superset: an export called GBK may hold a rare name
	// character (生僻字) only GB18030's four-byte form can write, and the GBK decoder
	// would make the row, and the pensioner on a roster, quarantined. Both decode every
	// GBK byte sequence (0x80 as €, too) alike.
	t.dec = asciiFirst{dec: simplifiedchinese.GB18030.NewDecoder()}
	t.raw = make([]byte, detectSize)
	t.rw = copy(t.raw, head)
}

// detectEncoding applies spec §1: UTF-8 unless the head is not valid UTF-8 and decodes
// as GB18030 without a replacement character. A multi-byte character cut by the end of the
// head (when more follows) counts neither way. A UTF-8 byte-order mark settles it.
func detectEncoding(head []byte, atEOF bool) string {
	if bytes.HasPrefix(head, utf8BOM) {
		return EncodingUTF8
	}
	h := head
	if !atEOF {
		h = trimPartialUTF8(h)
	}
	if utf8.Valid(h) {
		return EncodingUTF8
	}
	dec := asciiFirst{dec: simplifiedchinese.GB18030.NewDecoder()}
	var out [4096]byte
	src := head
	for len(src) > 0 {
		nDst, nSrc, err := dec.Transform(out[:], src, atEOF)
		if bytes.Contains(out[:nDst], replacement) {
			return EncodingUTF8
		}
		src = src[nSrc:]
		if err == transform.ErrShortSrc || (err == nil && nSrc == 0) {
			break // a character cut by the end of the head
		}
		if err != nil && err != transform.ErrShortDst {
			return EncodingUTF8
		}
	}
	return EncodingGB18030
}

// evidentUTF8 reports whether a file that the operator says is GBK or GB18030 is UTF-8
// all the same: its head starts with a UTF-8 byte-order mark, or is valid UTF-8 holding a
// Chinese character. GB text is not valid UTF-8 by chance, except in a few short runs: a
// GBK file whose only Chinese is a two-character name is valid UTF-8 once in thirty
// (GB2312's common characters, leads 0xB0–0xD7), but read so it holds no Chinese
// character (two-byte sequences only, U+0080–U+07FF), so it stays GBK here. A head that
// is ASCII says nothing either way: the forced encoding stands (its GBK rows may come
// after the first 64 KiB, which is what the option is for).
func evidentUTF8(head []byte, atEOF bool) bool {
	if bytes.HasPrefix(head, utf8BOM) {
		return true
	}
	if !atEOF {
		head = trimPartialUTF8(head)
	}
	han := false
	for len(head) > 0 {
		if k := asciiPrefix(head); k > 0 {
			head = head[k:]
			continue
		}
		r, n := utf8.DecodeRune(head)
		if r == utf8.RuneError && n == 1 {
			return false
		}
		han = han || unicode.Is(unicode.Han, r)
		head = head[n:]
	}
	return han
}

// asciiPrefix returns how many bytes at the start of b are ASCII.
func asciiPrefix(b []byte) int {
	k := 0
	for k+8 <= len(b) && binary.LittleEndian.Uint64(b[k:])&0x8080808080808080 == 0 {
		k += 8
	}
	for k < len(b) && b[k] < utf8.RuneSelf {
		k++
	}
	return k
}

// trimPartialUTF8 drops a UTF-8 sequence cut short at the end of b.
func trimPartialUTF8(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return b // ASCII: nothing cut
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

func (t *textBuf) noteRead(n int, err error) {
	switch {
	case err == io.EOF:
		t.srcEOF = true
	case err != nil:
		t.err = err
	case n == 0:
		t.empty++
		if t.empty > 100 {
			t.err = io.ErrNoProgress
		}
		return
	}
	t.empty = 0
}

// window returns the text not consumed yet. It stays valid until the next call of more.
func (t *textBuf) window() []byte { return t.buf[t.r:t.w] }

// consume marks n bytes of the window as used.
func (t *textBuf) consume(n int) { t.r += n }

// done reports whether no more text will come: the source is exhausted and decoded.
func (t *textBuf) done() bool { return t.srcEOF && t.rr == t.rw }

// full reports whether the window has reached maxRowBytes.
func (t *textBuf) full() bool { return t.w-t.r >= maxRowBytes }

// room makes space after w, first by moving the window to the front, then by growing.
func (t *textBuf) room() {
	free := len(t.buf) - t.w
	if t.r > 0 && free < len(t.buf)/4 {
		copy(t.buf, t.buf[t.r:t.w])
		t.w -= t.r
		t.r = 0
		free = len(t.buf) - t.w
	}
	if free < len(t.buf)/4 {
		nb := make([]byte, 2*len(t.buf))
		copy(nb, t.buf[t.r:t.w])
		t.w -= t.r
		t.r = 0
		t.buf = nb
	}
}

// more adds text after the window, which may move (callers hold offsets into the window,
// never slices across a call). It reports whether text was added; false means the end of
// the text (done), a read error (err), or a window already at maxRowBytes (full). It adds
// at least moreMin bytes unless the text ends or the window fills first: the callers scan
// the window again from its start after each call, so a source that gives a few bytes a
// read (a client trickling its body) must not make a long row cost its length squared.
func (t *textBuf) more() bool {
	n0 := t.w - t.r
	if !t.more1() {
		return false
	}
	// Only into the room there is: a read that had to move or grow the buffer for this
	// would cost more than the scan it saves.
	for t.w-t.r-n0 < moreMin && len(t.buf)-t.w >= len(t.buf)/4 && t.more1() {
	}
	return true
}

// moreMin is the least text more adds when the source has it.
const moreMin = 64 << 10

// more1 is one step of more: at least one byte added, or false.
func (t *textBuf) more1() bool {
	if t.full() {
		return false
	}
	for {
		if t.dec == nil {
			if t.srcEOF || t.err != nil {
				return false
			}
			t.room()
			n, err := t.src.Read(t.buf[t.w:])
			t.w += n
			t.noteRead(n, err)
			if n > 0 {
				return true
			}
			continue
		}
		if t.rr < t.rw {
			t.room()
			nDst, nSrc, err := t.dec.Transform(t.buf[t.w:], t.raw[t.rr:t.rw], t.srcEOF)
			t.w += nDst
			t.rr += nSrc
			if nDst > 0 {
				return true
			}
			if err != nil && err != transform.ErrShortSrc && err != transform.ErrShortDst {
				t.err = err
				return false
			}
		}
		if t.srcEOF || t.err != nil {
			if t.err != nil {
				t.rr = t.rw // a character cut by the error is lost with its row
			}
			return false
		}
		if t.rr > 0 {
			t.rw = copy(t.raw, t.raw[t.rr:t.rw])
			t.rr = 0
		}
		n, err := t.src.Read(t.raw[t.rw:])
		t.rw += n
		t.noteRead(n, err)
	}
}

// invalid is the message of a row (or line) whose text did not decode. A file read as
// UTF-8 because its first 64 KiB were (spec §1), with GB rows after them, gets the remedy
// named: the operator cannot tell it from the reason alone.
func (t *textBuf) invalid(what string, b []byte) string {
	msg := "the " + what + " is not valid " + t.enc
	if t.detected && t.dec == nil {
		if gb, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b); err == nil && !bytes.Contains(gb, replacement) {
			msg += " (the file was read as UTF-8, as its first 64 KiB are; this " + what + " reads as GBK/GB18030: " +
				"send the file again with the encoding given — ingest --encoding gbk, charset=gbk to the API, serve --drop-encoding SOURCE=gbk for the drop folder)"
		}
	}
	return msg
}

// valid reports whether a row's text decoded cleanly: valid UTF-8 for a UTF-8 file, no
// replacement character for a GB file (so a genuine U+FFFD in a GB file counts as bad; GB
// exports have no reason to hold one).
func (t *textBuf) valid(b []byte) bool {
	if t.dec == nil {
		return validUTF8(b)
	}
	return !bytes.Contains(b, replacement)
}

// discardLine drops text up to and including the next '\n'. It reports whether it found
// one (false at the end of the text or on a read error).
func (t *textBuf) discardLine() bool {
	for {
		b := t.window()
		if k := bytes.IndexByte(b, '\n'); k >= 0 {
			t.consume(k + 1)
			return true
		}
		t.consume(len(b))
		if !t.more() {
			return false
		}
	}
}

// errTooLong explains a quarantined row longer than maxRowBytes.
var errTooLong = errors.New("row longer than 4 MiB (an unclosed quote?)")

// validUTF8 is utf8.Valid, returning to its eight-bytes-at-a-time ASCII path after each
// non-ASCII character (utf8.Valid stays on the slow path for the rest of the input once
// it has met one, and every row here carries a Chinese name in its middle).
func validUTF8(b []byte) bool {
	for len(b) > 0 {
		for len(b) >= 8 && binary.LittleEndian.Uint64(b)&0x8080808080808080 == 0 {
			b = b[8:]
		}
		if len(b) == 0 {
			break
		}
		c := b[0]
		if c < utf8.RuneSelf {
			b = b[1:]
			continue
		}
		// Three-byte characters (all of CJK) checked in place: a lead byte whose second
		// byte has the full continuation range (not E0 or ED), two continuation bytes.
		if len(b) >= 3 && ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) && b[1]&0xC0 == 0x80 && b[2]&0xC0 == 0x80 {
			b = b[3:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			return false
		}
		b = b[n:]
	}
	return true
}
