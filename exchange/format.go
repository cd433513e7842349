package exchange

import (
	"strings"

	"github.com/silentcert/silentcert"
)

// Format is the syntax of an exchange file (spec §1).
type Format uint8

// The exchange formats.
const (
	FormatCSV   Format = iota // RFC 4180 with a header row
	FormatJSONL               // JSON Lines: one flat object per line
)

// String returns "csv" or "jsonl".
func (f Format) String() string {
	if f == FormatJSONL {
		return "jsonl"
	}
	return "csv"
}

// FormatOf tells a file's format from its extension, as spec §1 requires: ".csv" or
// ".jsonl", optionally followed by ".gz", in any letter case. ok is false for any other
// name.
func FormatOf(path string) (f Format, gz bool, ok bool) {
	name := strings.ToLower(path)
	if strings.HasSuffix(name, ".gz") {
		gz = true
		name = name[:len(name)-3]
	}
	switch {
	case strings.HasSuffix(name, ".csv"):
		return FormatCSV, gz, true
	case strings.HasSuffix(name, ".jsonl"):
		return FormatJSONL, gz, true
	}
	return 0, false, false
}

// Options tune how a record file is read.
type Options struct {
	// Encoding is "" or "auto" to detect (UTF-8 unless the first 64 KiB are not UTF-8 and
	// are clean GB18030), or "utf-8", "gbk" or "gb18030" to force one (the operator's
	// --encoding). Letter case does not matter; "utf8" is read as "utf-8". A forced gbk or
	// gb18030 gives way to UTF-8 for a file that evidently is (a UTF-8 byte-order mark, or
	// a head of valid UTF-8 holding Chinese text), with a warning; gbk is decoded as
	// GB18030, its superset.
	Encoding string
	// MaxDecompressed bounds what a gzip file may unpack to (0: no bound), so that a small
	// body cannot fill the memory (a decompression bomb): past it the file cannot be read
	// to its end.
	MaxDecompressed int64
}

// The encodings a reader reports having used.
const (
	EncodingUTF8    = "utf-8"
	EncodingGBK     = "gbk"
	EncodingGB18030 = "gb18030"
)

// CheckEncoding returns an error naming s when it is not an encoding Options.Encoding
// takes (auto, utf-8, gbk, gb18030).
func CheckEncoding(s string) error {
	_, err := encodingOption(s)
	return err
}

// encodingOption returns the forced encoding ("" for detection) or an error naming the
// value.
func encodingOption(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return "", nil
	case "utf-8", "utf8":
		return EncodingUTF8, nil
	case "gbk":
		return EncodingGBK, nil
	case "gb18030":
		return EncodingGB18030, nil
	}
	return "", silentcert.Errorf(silentcert.EInvalid, "encoding %q is not one of auto, utf-8, gbk, gb18030", s)
}
