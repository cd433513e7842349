package exchange

import (
	"encoding/binary"

	"golang.org/x/text/transform"
)

// asciiFirst wraps a GBK/GB18030 decoder: runs of ASCII (most of a department's export:
// codes, dates, digits, commas) are copied in bulk, and only the stretches around
// non-ASCII bytes go through the decoder, which works a byte at a time. Its output is the
// decoder's, byte for byte: ASCII decodes to itself in both encodings, and a stretch
// handed to the decoder always starts on a character (after ASCII, or where the decoder
// itself stopped).
type asciiFirst struct {
	transform.NopResetter
	dec transform.Transformer
}

func (a asciiFirst) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		// Copy the ASCII run, eight bytes at a time where it can.
		k := nSrc
		for k+8 <= len(src) && binary.LittleEndian.Uint64(src[k:])&0x8080808080808080 == 0 {
			k += 8
		}
		for k < len(src) && src[k] < 0x80 {
			k++
		}
		if k > nSrc {
			n := copy(dst[nDst:], src[nSrc:k])
			nDst += n
			nSrc += n
			if nSrc < k {
				return nDst, nSrc, transform.ErrShortDst
			}
			continue
		}
		// A non-ASCII byte: let the decoder read the stretch of characters from here. A
		// character is a lead byte >= 0x81 and a trail byte (which may be ASCII), or two
		// such pairs (GB18030's four-byte form): step by pairs while a lead follows.
		end := nSrc
		for end < len(src) && src[end] >= 0x80 {
			end += 2
		}
		end = min(end, len(src))
		d, s, e := a.dec.Transform(dst[nDst:], src[nSrc:end], atEOF && end == len(src))
		nDst += d
		nSrc += s
		if e == transform.ErrShortSrc && end < len(src) && s > 0 {
			continue // a character cut by the stretch's end: start the next one on it
		}
		if e == transform.ErrShortSrc && end < len(src) {
			// Not even one character fitted the stretch (a lead byte before an ASCII
			// byte that the decoder wants more after); give the decoder the rest.
			d, s, e = a.dec.Transform(dst[nDst:], src[nSrc:], atEOF)
			nDst += d
			nSrc += s
		}
		if e != nil {
			return nDst, nSrc, e
		}
	}
	return nDst, nSrc, nil
}
