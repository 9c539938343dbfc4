package libvirt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

func TestParseRecord(t *testing.T) {
	const u1, u2 = "6695eb01-f6a4-8304-79aa-97f2502e193f", "00000000-0000-4000-8000-000000000002"
	tests := []struct {
		name     string
		data     string
		want     []recordedDomain
		line     int    // of the error; 0 with errText "" means success
		errText  string // part of the error
		sentinel error
	}{
		{name: "UUIDs with and without names, comments and blank lines",
			data: "# engine-cleanup: libvirt domains\n\n" + strings.ToUpper(u1) + "  hosted engine  \r\n\t" + u2 + "\n",
			want: []recordedDomain{{UUID: u1, Name: "hosted engine", Line: 3}, {UUID: u2, Line: 4}}},
		{name: "an empty file lists nothing", data: ""},
		{name: "a tab separates the name", data: u1 + "\tvm\n", want: []recordedDomain{{UUID: u1, Name: "vm", Line: 1}}},
		{name: "a UUID without dashes is refused", data: strings.ReplaceAll(u1, "-", "") + "\n", line: 1, errText: "is not a domain UUID"},
		{name: "a truncated UUID is refused", data: "\n" + u1[:35] + " vm\n", line: 2, errText: "is not a domain UUID"},
		{name: "a non-hex UUID is refused", data: "g695eb01-f6a4-8304-79aa-97f2502e193f\n", line: 1, errText: "is not a domain UUID"},
		{name: "a duplicate UUID is refused", data: u1 + " a\n" + strings.ToUpper(u1) + " b\n", line: 2, errText: "already listed on line 1"},
		{name: "a duplicate name is refused", data: u1 + " vm\n" + u2 + " vm\n", line: 2, errText: "already listed on line 1"},
		{name: "a name with a slash is refused", data: u1 + " a/b\n", line: 1, errText: "contains /"},
		{name: "a name with a control character is refused", data: u1 + " a\x1bb\n", line: 1, errText: "control character"},
		{name: "a NUL byte is refused", data: u1 + " vm\n" + u2 + "\x00\n", line: 2, sentinel: records.ErrNUL},
		{name: "invalid UTF-8 is refused", data: "# \xff\xfe\n", line: 1, sentinel: records.ErrInvalidUTF8},
		{name: "an overlong line is refused", data: u1 + " " + strings.Repeat("x", records.MaxLineLength) + "\n", line: 1, sentinel: records.ErrLineTooLong},
		{name: "an oversized file is refused", data: strings.Repeat("#\n", records.MaxRecordSize/2+1), sentinel: records.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRecord("/r/libvirt-domains.conf", []byte(tc.data))
			if tc.errText == "" && tc.sentinel == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Errorf("domain %d: got %+v, want %+v", i, got[i], tc.want[i])
					}
				}
				return
			}
			var se *records.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v (%T), want a *records.SyntaxError", err, err)
			}
			if se.File != "/r/libvirt-domains.conf" || se.Line != tc.line {
				t.Errorf("located at %s:%d, want line %d", se.File, se.Line, tc.line)
			}
			if tc.errText != "" && !strings.Contains(se.Msg, tc.errText) {
				t.Errorf("message %q does not say %q", se.Msg, tc.errText)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v is not %v", err, tc.sentinel)
			}
			if strings.ContainsAny(err.Error(), "\x00\x1b") || !strings.HasPrefix(err.Error(), "/r/libvirt-domains.conf") {
				t.Errorf("error %q must start with the file and carry no control characters", err)
			}
		})
	}
}

func TestReadRecordStaysUnderRoot(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "elsewhere.conf")
	if err := os.WriteFile(outside, []byte("6695eb01-f6a4-8304-79aa-97f2502e193f vm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rec, err := readRecord(root); rec != nil || err != nil {
		t.Fatalf("no record: got %+v, %v", rec, err)
	}
	p := filepath.Join(root, RecordFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, p); err != nil {
		t.Fatal(err)
	}
	if _, err := readRecord(root); !errors.Is(err, records.ErrOutsideRoot) {
		t.Errorf("a record linking out of the root: got %v, want ErrOutsideRoot", err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := readRecord(root); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory as the record: got %v", err)
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte("6695eb01-f6a4-8304-79aa-97f2502e193f vm\n# c\n\n"))
	f.Add([]byte("6695EB01-F6A4-8304-79AA-97F2502E193F\tname with blanks \r\n"))
	f.Add([]byte("x\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doms, err := parseRecord("fuzz.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.conf") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, d := range doms {
			if u, ok := canonicalUUID(d.UUID); !ok || u != d.UUID || seen[d.UUID] || d.Line < 1 || badName(d.Name) != "" {
				t.Fatalf("accepted %+v", d)
			}
			seen[d.UUID] = true
		}
	})
}
