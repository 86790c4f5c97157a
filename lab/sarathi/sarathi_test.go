package sarathi

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ReadValues on the edge cases of the format, read whole, through the
// memory mapping and streamed: the expected values, or an error naming the file
// (and the line where there is one) — never a panic.
func TestReadValuesEdgeCases(t *testing.T) {
	tests := []struct {
		name, content string
		want          []float64
		err           string // substring of the error after "<path>"
	}{
		{"empty", "", nil, `: empty file, expected a header with column "m"`},
		{"header only", "Request Id,m,cdf\n", nil, `: column "m": no values`},
		{"header without newline", "Request Id,m,cdf", nil, `: column "m": no values`},
		{"no trailing newline", "Request Id,m,cdf\n0_0,1.5,0.5\n0_1,2,1", []float64{1.5, 2}, ""},
		{"crlf", "Request Id,m,cdf\r\n0_0,1.5,0.5\r\n0_1,2,1\r\n", []float64{1.5, 2}, ""},
		{"crlf no trailing newline", "Request Id,m,cdf\r\n0_0,1.5,0.5\r\n0_1,2,1", []float64{1.5, 2}, ""},
		{"quoted header and value", "\"Request Id\",\"m\",\"cdf\"\n\"0_0\",\"4\",\"1\"\n", []float64{4}, ""},
		{"vidur index column", ",Request Id,m,cdf\n0,0_0,0.1,0.5\n1,0_1,0.2,1\n", []float64{0.1, 0.2}, ""},
		{"metric in the last column", "Request Id,cdf,m\n0_0,1,7\n", []float64{7}, ""},
		{"metric column twice: the first", "Request Id,m,m\n0_0,1,7\n", []float64{1}, ""},
		{"empty fields and blank lines skipped", "Request Id,m,cdf\n0_0,,0.5\n\n0_1, 3 ,1\n\r\n", []float64{3}, ""},
		{"short row", "Request Id,m,cdf\n0_0,1,0.5\n0_1\n", nil, `:3: row has fewer than 2 fields`},
		{"not a number", "Request Id,m,cdf\n0_0,1,0.5\n0_1,1.2.3,1\n", nil, `:3: column "m": "1.2.3" is not a number`},
		{"nan", "Request Id,m,cdf\n0_0,nan,1\n", nil, `:2: column "m": "nan" is not a finite number`},
		{"inf", "Request Id,m,cdf\n0_0,-Inf,1\n", nil, `:2: column "m": "-Inf" is not a finite number`},
		{"overflow", "Request Id,m,cdf\n0_0,1,0.5\n0_1,-1e400,1\n", nil, `:3: column "m": "-1e400" is beyond float64's range (±1.8e308)`},
		{"missing column", "Request Id,other,cdf\n0_0,1,1\n", nil, `:1: no column "m"`},
		{"blank header", "\n0_0,1,1\n", nil, `:1: no column "m"`},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".csv")
		if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, how := range []string{"read whole", "mapped", "streamed"} {
			var got []float64
			var err error
			switch how {
			case "read whole":
				got, err = AppendValues([]float64{-1}, p, "m") // appends after what dst holds
				if len(got) > 0 && got[0] == -1 {
					got = got[1:]
				} else {
					t.Errorf("%s (%s): dst's first value lost: %v", tc.name, how, got)
				}
			case "mapped":
				f, oerr := os.Open(p)
				if oerr != nil {
					t.Fatal(oerr)
				}
				if data, unmap, ok := mapFile(f); ok {
					got, err = parseMapped(data, p, "m", nil)
					unmap()
				} else {
					got, err = readValues(f, p, "m", nil) // empty, or no mapping here
				}
				f.Close()
			default:
				got, err = readValues(strings.NewReader(tc.content), p, "m", nil)
			}
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), p+tc.err) {
					t.Errorf("%d %s (%s): error %v, want %q", i, tc.name, how, err, p+tc.err)
				}
				continue
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("%d %s (%s): %v, %v; want %v", i, tc.name, how, got, err, tc.want)
			}
		}
	}
}

// A mapped file that shrinks under the reader faults on the vanished pages;
// the read must end in an error, not kill the process with SIGBUS. A file
// that grows is read up to its size when it was mapped.
func TestMappedFileChangesSize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.csv")
	content := "Request Id,m,cdf\n" + strings.Repeat("0_0,1.5,0.5\n", 5000) // 60 kB: many pages
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	mapOpen := func() ([]byte, func()) {
		t.Helper()
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		data, unmap, ok := mapFile(f)
		if !ok {
			t.Skip("memory mapping not available here")
		}
		return data, unmap
	}

	data, unmap := mapOpen()
	if err := os.Truncate(p, 100); err != nil {
		t.Fatal(err)
	}
	vals, err := parseMapped(data, p, "m", nil)
	unmap()
	if err == nil || !strings.Contains(err.Error(), p+": the file shrank") {
		t.Errorf("shrunk file: %d values, error %v; want the shrinking named", len(vals), err)
	}

	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	data, unmap = mapOpen()
	defer unmap()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("0_1,2.5,1\n")
	f.Close()
	vals, err = parseMapped(data, p, "m", nil)
	if err != nil || len(vals) != 5000 {
		t.Errorf("grown file: %d values, %v; want the 5000 mapped", len(vals), err)
	}
}

// A small file is read whole at the size Stat gave; one that changed size
// since is still read correctly: a grown one again as a stream, whole, a
// shrunk one as far as it goes.
func TestReadWholeFileChangesSize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.csv")
	content := "Request Id,m,cdf\n" + strings.Repeat("0_0,1.5,0.5\n", 100)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		size int // the size readWhole is told
		want int
	}{
		{"same size", len(content), 100},
		{"grew since Stat", len(content) - 30, 100},
		{"shrank since Stat", len(content) + 500, 100},
		{"grew by one byte", len(content) - 1, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			vals, err := readWhole(f, tc.size, p, "m", nil)
			if err != nil || len(vals) != tc.want {
				t.Errorf("%d values, %v; want %d", len(vals), err, tc.want)
			}
		})
	}
}

// The in-memory reader's fast path for plain rows (plainRows) must give
// what the general line-by-line path gives, values and errors alike, for
// every mix of plain and unusual rows.
func TestPlainRowsMatchTheGeneralPath(t *testing.T) {
	const header = "Request Id,m,cdf\n"
	for _, tc := range []struct{ name, body string }{
		{"plain", "0_1,1.5,0.5\n0_2,2.25,1\n"},
		{"no final newline", "0_1,1.5,0.5\n0_2,2.25,1"},
		{"CRLF", "0_1,1.5,0.5\r\n0_2,2.25,1\r\n"},
		{"value last with CRLF", "0_1,0.5,1.5\r\n"},
		{"quoted value", "0_1,\"1.5\",0.5\n0_2,2,1\n"},
		{"spaces", "0_1, 1.5 ,0.5\n0_2,2,1\n"},
		{"empty field", "0_1,,0.5\n0_2,2,1\n"},
		{"empty line", "0_1,1,0.5\n\n0_2,2,1\n"},
		{"short row", "0_1,1,0.5\n0_2\n0_3,3,1\n"},
		{"not a number", "0_1,1,0.5\n0_2,x,1\n"},
		{"infinite", "0_1,1,0.5\n0_2,inf,1\n"},
		{"17 digits and exponents", "0_1,0.2221279850818555,0.1\n0_2,1e-7,0.2\n0_3,-3.5E+2,1\n"},
		{"long mantissa", "0_1,123456789012345678901234,0.1\n0_2,2,1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content := header + tc.body
			for _, col := range []string{"m", "cdf", "Request Id"} {
				wantVals, wantErr := readValues(strings.NewReader(content), "f.csv", col, nil)
				gotVals, gotErr := parseValues(&sliceLines{[]byte(content)}, "f.csv", col, nil)
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !slices.Equal(gotVals, wantVals) {
					t.Errorf("column %q: in memory %v, %v; streamed %v, %v", col, gotVals, gotErr, wantVals, wantErr)
				}
			}
		})
	}
}

// indexDelim finds what a byte-by-byte scan finds, at every offset and
// alignment, with delimiters and bytes that differ from them by one bit or
// by a borrow (0x0b, 0x2d, 0x8a, 0xff).
func TestIndexDelim(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	alphabet := []byte{'a', '0', ',', '\n', 0x0b, 0x2d, 0x8a, 0xff, 0x00, 0x09}
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		for i := 0; i <= len(b); i++ {
			for _, comma := range []bool{false, true} {
				want := i
				for want < len(b) && b[want] != '\n' && !(comma && b[want] == ',') {
					want++
				}
				if got := indexDelim(b, i, comma); got != want {
					t.Fatalf("indexDelim(%q, %d, %v) = %d, want %d", b, i, comma, got, want)
				}
			}
		}
	}
}

// FuzzInMemoryMatchesStreamed: whatever the bytes after the header, the
// in-memory reader (whose fast path parses plain rows in one pass) gives
// the streamed reader's values and error, for every column. The seed corpus
// runs with the tests; `go test -fuzz FuzzInMemoryMatchesStreamed
// ./lab/sarathi` searches further.
func FuzzInMemoryMatchesStreamed(f *testing.F) {
	for _, body := range []string{"0_1,1.5,0.5\n0_2,2.25,1\n", "0_1,0.00460120908195203,0.0001\r\n",
		"0_1,\"1.5\",0.5\n0_2\n", "0_1,,0.5\n\n0_2,1e400,1", "0_1, 7 ,1\n0_2,4.1511833799251475e-05,2\n"} {
		f.Add([]byte(body))
	}
	const header = "Request Id,m,cdf\n"
	f.Fuzz(func(t *testing.T, body []byte) {
		content := header + string(body)
		for _, col := range []string{"m", "cdf"} {
			wantVals, wantErr := readValues(strings.NewReader(content), "f.csv", col, nil)
			gotVals, gotErr := parseValues(&sliceLines{[]byte(content)}, "f.csv", col, nil)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !slices.Equal(gotVals, wantVals) {
				t.Fatalf("%q, column %q: in memory %v, %v; streamed %v, %v", body, col, gotVals, gotErr, wantVals, wantErr)
			}
		}
	})
}
