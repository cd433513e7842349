package divisions

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/silentcert/silentcert"
)

// Level is the depth of a division in the NBS hierarchy, from province (1) to village (5).
type Level uint8

// The five levels of the statistical division code (统计用区划代码).
const (
	LevelNone       Level = 0 // nothing matched
	LevelProvince   Level = 1 // 省级: 2-digit code
	LevelPrefecture Level = 2 // 地级: 4-digit code
	LevelCounty     Level = 3 // 县级: 6-digit code
	LevelTown       Level = 4 // 乡级 (town, township or street): 9-digit code
	LevelVillage    Level = 5 // 村级 (village or community committee): 12-digit code
)

var levelNames = [...]string{"", "province", "prefecture", "county", "town", "village"}

// String returns the level's English name as written in output files ("" for LevelNone).
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// CodeLen returns the number of digits of a code at this level (0 for LevelNone).
func (l Level) CodeLen() int {
	switch l {
	case LevelProvince:
		return 2
	case LevelPrefecture:
		return 4
	case LevelCounty:
		return 6
	case LevelTown:
		return 9
	case LevelVillage:
		return 12
	}
	return 0
}

// LevelOf returns the level a code of this length belongs to, or LevelNone.
func LevelOf(code string) Level {
	switch len(code) {
	case 2:
		return LevelProvince
	case 4:
		return LevelPrefecture
	case 6:
		return LevelCounty
	case 9:
		return LevelTown
	case 12:
		return LevelVillage
	}
	return LevelNone
}

// Division is one row of the NBS table: a province, prefecture, county, town or village.
type Division struct {
	Code   string // 2, 4, 6, 9 or 12 digits, as in the NBS table
	Name   string // the official name, e.g. "银闸社区居委会"
	Level  Level
	Parent string // code of the nearest division above it that the table holds; "" for a province
}

// Table is the whole division tree, immutable once loaded and safe for concurrent use.
//
// The divisions are kept in one slice sorted by code as strings. Because a code extends
// its parent's code, that order is a depth-first walk: a division's subtree is the run of
// rows right after it, and end[i] marks where row i's subtree stops.
type Table struct {
	divs []Division
	end  []int32

	idxOnce sync.Once
	idx     *index // the address index, built by the first NewResolver
}

// The file names Load reads, from province to village; each may also be gzipped (NAME.gz).
var tableFiles = [...]struct {
	name  string
	level Level
}{
	{"provinces.csv", LevelProvince},
	{"cities.csv", LevelPrefecture},
	{"areas.csv", LevelCounty},
	{"streets.csv", LevelTown},
	{"villages.csv", LevelVillage},
}

//go:embed data/*.csv data/*.csv.gz
var embedded embed.FS

var (
	embeddedOnce  sync.Once
	embeddedTable *Table
	embeddedErr   error
)

// Embedded returns the whole-country NBS 2023 table compiled into the binary. It is
// decoded on the first call only; every caller shares the same table.
func Embedded() (*Table, error) {
	embeddedOnce.Do(func() {
		sub, err := fs.Sub(embedded, "data")
		if err != nil {
			embeddedErr = err
			return
		}
		embeddedTable, embeddedErr = LoadFS(sub)
	})
	return embeddedTable, embeddedErr
}

// Load reads a table from a directory holding provinces.csv, cities.csv, areas.csv,
// streets.csv and villages.csv (each possibly gzipped as NAME.csv.gz), in the layout of
// divisions/data.
func Load(dir string) (*Table, error) {
	return LoadFS(os.DirFS(dir))
}

// LoadFS is Load over any file system, such as an embed.FS.
func LoadFS(fsys fs.FS) (*Table, error) {
	var b builder
	// Room for the whole country, so that the buffers are not copied as they grow.
	b.codes.Grow(8 << 20)
	b.names.Grow(16 << 20)
	b.rows = make([]rawRow, 0, 700_000)
	for _, f := range tableFiles {
		if err := b.readFile(fsys, f.name, f.level); err != nil {
			return nil, err
		}
	}
	return b.build(), nil
}

// builder collects rows; names and codes go into two shared buffers so that the loaded
// table holds a few large strings instead of a million small ones.
type builder struct {
	codes, names strings.Builder // String() hands the bytes over without a copy
	rows         []rawRow
}

type rawRow struct {
	code, name [2]uint32 // [start, end) in builder.codes / builder.names
	level      Level
}

func (b *builder) readFile(fsys fs.FS, name string, level Level) error {
	f, err := fsys.Open(name)
	shown := name
	var r io.Reader
	if errors.Is(err, fs.ErrNotExist) {
		shown = name + ".gz"
		f, err = fsys.Open(shown)
		if err != nil {
			return silentcert.Errorf(silentcert.EInvalid, "divisions: neither %s nor %s.gz found: %w", name, name, err)
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			return silentcert.Errorf(silentcert.EInvalid, "divisions: %s: %w", shown, err)
		}
		defer gz.Close()
		r = gz
	} else if err != nil {
		return silentcert.Errorf(silentcert.EInvalid, "divisions: %s: %w", name, err)
	} else {
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var fields [][]byte
	codeCol, nameCol := -1, -1
	want := level.CodeLen()
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\xef\xbb\xbf"))
		}
		text = bytes.TrimSuffix(text, []byte{'\r'})
		if len(text) == 0 {
			continue
		}
		fields, err = splitCSVLine(text, fields[:0])
		if err != nil {
			return silentcert.Errorf(silentcert.EInvalid, "divisions: %s line %d: %v", shown, line, err)
		}
		if codeCol < 0 {
			for i, h := range fields {
				switch string(h) {
				case "code":
					codeCol = i
				case "name":
					nameCol = i
				}
			}
			if codeCol < 0 || nameCol < 0 {
				return silentcert.Errorf(silentcert.EInvalid, "divisions: %s line %d: header must name the columns code and name", shown, line)
			}
			continue
		}
		if codeCol >= len(fields) || nameCol >= len(fields) {
			return silentcert.Errorf(silentcert.EInvalid, "divisions: %s line %d: %d fields, want at least %d", shown, line, len(fields), max(codeCol, nameCol)+1)
		}
		code, nm := fields[codeCol], bytes.TrimSpace(fields[nameCol])
		if len(code) != want || !allDigits(code) {
			return silentcert.Errorf(silentcert.EInvalid, "divisions: %s line %d field code: %q is not a %d-digit code", shown, line, code, want)
		}
		if len(nm) == 0 {
			return silentcert.Errorf(silentcert.EInvalid, "divisions: %s line %d field name: empty", shown, line)
		}
		var row rawRow
		row.level = level
		row.code[0] = uint32(b.codes.Len())
		b.codes.Write(code)
		row.code[1] = uint32(b.codes.Len())
		row.name[0] = uint32(b.names.Len())
		b.names.Write(nm)
		row.name[1] = uint32(b.names.Len())
		b.rows = append(b.rows, row)
	}
	if err := sc.Err(); err != nil {
		return silentcert.Errorf(silentcert.EInvalid, "divisions: %s line %d: %w", shown, line+1, err)
	}
	if codeCol < 0 {
		return silentcert.Errorf(silentcert.EInvalid, "divisions: %s: empty file, want a header naming code and name", shown)
	}
	return nil
}

func allDigits(s []byte) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// splitCSVLine splits one CSV line into fields, undoing RFC 4180 quoting.
func splitCSVLine(line []byte, dst [][]byte) ([][]byte, error) {
	for i := 0; ; {
		if i < len(line) && line[i] == '"' {
			// Quoted field: find the closing quote, unescaping "" on the way.
			var f []byte
			j := i + 1
			start := j
			copied := false
			for {
				k := bytes.IndexByte(line[j:], '"')
				if k < 0 {
					return dst, fmt.Errorf("unterminated quoted field at byte %d", i+1)
				}
				j += k
				if j+1 < len(line) && line[j+1] == '"' {
					if !copied {
						f = append([]byte(nil), line[start:j+1]...)
						copied = true
					} else {
						f = append(f, line[start:j+1]...)
					}
					j += 2
					start = j
					continue
				}
				break
			}
			if copied {
				f = append(f, line[start:j]...)
			} else {
				f = line[start:j]
			}
			dst = append(dst, f)
			j++ // past the closing quote
			if j == len(line) {
				return dst, nil
			}
			if line[j] != ',' {
				return dst, fmt.Errorf("unexpected %q after quoted field at byte %d", line[j], j+1)
			}
			i = j + 1
			continue
		}
		k := bytes.IndexByte(line[i:], ',')
		if k < 0 {
			f := line[i:]
			if bytes.IndexByte(f, '"') >= 0 {
				return dst, fmt.Errorf("bare quote in unquoted field at byte %d", i+1)
			}
			return append(dst, f), nil
		}
		f := line[i : i+k]
		if bytes.IndexByte(f, '"') >= 0 {
			return dst, fmt.Errorf("bare quote in unquoted field at byte %d", i+1)
		}
		dst = append(dst, f)
		i += k + 1
	}
}

// build orders the rows by code, fills in missing ancestors and links parents.
//
// The modood tables leave out some county-level rows (NBS's 市辖区 placeholders, and the
// county of cities without counties such as Dongguan, Zhongshan and Danzhou, for which
// modood itself adds a row named after the city). When a town's 6-digit county is
// missing, build adds a county row named after its prefecture, so that every village has
// a path of five divisions. Any other missing ancestor is skipped: the row's Parent is
// the nearest ancestor the table does hold.
func (b *builder) build() *Table {
	codes := b.codes.String()
	names := b.names.String()
	rows := b.rows
	b.rows = nil
	code := func(r rawRow) string { return codes[r.code[0]:r.code[1]] }
	// Each file is sorted already; sorting row numbers, not rows, keeps it cheap when one
	// is not.
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return strings.Compare(code(rows[a]), code(rows[b])) })
	divs := make([]Division, 0, len(rows)+16)
	for k, i := range order {
		r := rows[i]
		if k > 0 && code(rows[order[k-1]]) == code(r) {
			continue // a repeated code: the first row wins
		}
		divs = append(divs, Division{Code: code(r), Name: names[r.name[0]:r.name[1]], Level: r.level})
	}
	// Missing counties of towns whose prefecture is present.
	held := make(map[string]int, 4096)
	for i, d := range divs {
		if d.Level <= LevelCounty {
			held[d.Code] = i
		}
	}
	var extra []Division
	for _, d := range divs {
		if d.Level != LevelTown {
			continue
		}
		county := d.Code[:6]
		if _, ok := held[county]; ok {
			continue
		}
		if pi, ok := held[d.Code[:4]]; ok {
			extra = append(extra, Division{Code: county, Name: divs[pi].Name, Level: LevelCounty})
			held[county] = -1
		}
	}
	if len(extra) > 0 {
		divs = append(divs, extra...)
		slices.SortStableFunc(divs, func(a, b Division) int { return strings.Compare(a.Code, b.Code) })
	}
	// One depth-first pass: the stack holds the chain of rows whose codes prefix the
	// current one; its top is the parent, and a row popped ends its subtree here.
	t := &Table{divs: divs, end: make([]int32, len(divs))}
	stack := make([]int32, 0, 8)
	for i := range divs {
		for len(stack) > 0 && !strings.HasPrefix(divs[i].Code, divs[stack[len(stack)-1]].Code) {
			t.end[stack[len(stack)-1]] = int32(i)
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			divs[i].Parent = divs[stack[len(stack)-1]].Code
		}
		stack = append(stack, int32(i))
	}
	for _, s := range stack {
		t.end[s] = int32(len(divs))
	}
	return t
}

// index returns the position of code in t.divs.
func (t *Table) index(code string) (int, bool) {
	i := sort.Search(len(t.divs), func(i int) bool { return t.divs[i].Code >= code })
	return i, i < len(t.divs) && t.divs[i].Code == code
}

// Len returns the number of divisions in the table.
func (t *Table) Len() int { return len(t.divs) }

// Lookup returns the division with exactly this code.
func (t *Table) Lookup(code string) (Division, bool) {
	i, ok := t.index(code)
	if !ok {
		return Division{}, false
	}
	return t.divs[i], true
}

// Children returns the divisions directly under code, sorted by code; "" gives the
// provinces. A child whose intermediate level is missing from the table counts as a
// child of its nearest ancestor.
func (t *Table) Children(code string) []Division {
	lo, hi := 0, len(t.divs)
	if code != "" {
		i, ok := t.index(code)
		if !ok {
			return nil
		}
		lo, hi = i+1, int(t.end[i])
	}
	var out []Division
	for i := lo; i < hi; i = int(t.end[i]) {
		out = append(out, t.divs[i])
	}
	return out
}

// Under returns every division of the given level whose code starts with prefix, sorted
// by code.
func (t *Table) Under(prefix string, level Level) []Division {
	lo, hi := t.prefixRange(prefix)
	var out []Division
	for i := lo; i < hi; i++ {
		if t.divs[i].Level == level {
			out = append(out, t.divs[i])
		}
	}
	return out
}

// prefixRange returns the rows whose code starts with prefix.
func (t *Table) prefixRange(prefix string) (int, int) {
	lo := sort.Search(len(t.divs), func(i int) bool { return t.divs[i].Code >= prefix })
	hi := lo + sort.Search(len(t.divs)-lo, func(k int) bool {
		return !strings.HasPrefix(t.divs[lo+k].Code, prefix)
	})
	return lo, hi
}

// Path returns the chain from the province down to the division itself, or nil if the
// code is not in the table.
func (t *Table) Path(code string) []Division {
	i, ok := t.index(code)
	if !ok {
		return nil
	}
	out := make([]Division, 0, 5)
	for d := t.divs[i]; ; {
		out = append(out, d)
		if d.Parent == "" {
			break
		}
		j, _ := t.index(d.Parent)
		d = t.divs[j]
	}
	for a, b := 0, len(out)-1; a < b; a, b = a+1, b-1 {
		out[a], out[b] = out[b], out[a]
	}
	return out
}
