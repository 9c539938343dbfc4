package files

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// FuzzRevertLines checks revertContent on any content and any edits (it
// must not panic, and must say truthfully whether it changed anything),
// and that reverting what setupLike applied gives the original back.
func FuzzRevertLines(f *testing.F) {
	f.Add(sslConf, []byte{0, 7, 1, 9, 3, 0, 2}, "SSLProtocol all -SSLv2 -SSLv3")
	f.Add(versionlock, []byte{1, 1, 3, 0}, "ovirt-engine-4.3.0-1.el7.noarch")
	f.Add("a\nb\n\n  c  \n", []byte{4, 0, 4, 1, 0, 3}, "x")
	f.Add("x\r\ny", []byte{2, 2, 2}, "# y")
	f.Add("", []byte{1, 0}, "")
	f.Fuzz(func(t *testing.T, content string, ops []byte, text string) {
		// Any content, edits made from the fuzz input as they come.
		var edits []records.LineEdit
		parts := strings.Split(text, "|")
		for i, op := range ops {
			a, r := parts[i%len(parts)], parts[(i+1)%len(parts)]
			switch op % 3 {
			case 0:
				edits = append(edits, records.LineEdit{Change: records.LineAdded, Added: a})
			case 1:
				edits = append(edits, records.LineEdit{Change: records.LineRemoved, Removed: r})
			default:
				edits = append(edits, records.LineEdit{Change: records.LineReplaced, Added: a, Removed: r})
			}
		}
		p := revertContent([]byte(content), edits)
		if p.changed != !bytes.Equal(p.out, []byte(content)) {
			t.Fatalf("changed = %v but the output differs: %v", p.changed, !bytes.Equal(p.out, []byte(content)))
		}
		if p.already && p.changed {
			t.Fatal("already reverted, yet changed")
		}
		if len(p.reverted)+len(p.notFound) > len(edits) {
			t.Fatalf("%d reverted and %d not found of %d edits", len(p.reverted), len(p.notFound), len(edits))
		}

		// The round trip.
		orig, edited, recorded, ok := setupLike(content, ops, text)
		if !ok {
			return
		}
		back := revertContent([]byte(edited), recorded)
		if string(back.out) != orig || len(back.notFound) != 0 {
			t.Fatalf("revert(apply(%q)) = %q (not found %d); edits %+v; edited %q", orig, back.out, len(back.notFound), recorded, edited)
		}
		if again := revertContent(back.out, recorded); !again.already && again.changed {
			t.Fatalf("a second revert changed %q to %q", back.out, again.out)
		}
	})
}

// setupLike turns fuzz input into an original file and edits applied to it
// as engine-setup applies them, within what reverting can undo exactly:
// distinct lines without carriage returns, a final newline, fresh added
// text; lines replaced or removed (at the end only) have no blanks at their
// ends, since the manifest does not keep them and only a commented-out
// line shows where they were.
func setupLike(content string, ops []byte, text string) (orig, edited string, edits []records.LineEdit, ok bool) {
	var lines []string
	seen := map[string]bool{}
	for l := range strings.SplitSeq(content, "\n") {
		l = strings.Map(func(r rune) rune {
			if r == '\r' || r == 0 || r == unicode.ReplacementChar {
				return 'x'
			}
			return r
		}, l)
		k := lineKey(l)
		if k == "" || seen[k] || seen["# "+k] || strings.HasPrefix(k, "# ") || strings.HasPrefix(k, "fresh") {
			continue
		}
		seen[k], seen["# "+k] = true, true
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return "", "", nil, false
	}
	orig = strings.Join(lines, "\n") + "\n"
	cur := append([]string(nil), lines...)
	fresh := func(i int) string { return lineKey("fresh" + strconv.Itoa(i) + " " + strings.Map(onlyPrintable, text)) }
	commented := map[int]bool{}
	for i, op := range ops {
		if len(cur) == 0 {
			break
		}
		at := i % len(cur)
		switch op % 5 {
		case 0: // editConfigContent: comment out, the new value after it
			if commented[at] || at >= len(lines) || cur[at] != lines[at] {
				continue
			}
			line := cur[at]
			spaces := line[:len(line)-len(strings.TrimLeftFunc(line, unicode.IsSpace))]
			c := spaces + "# " + strings.TrimLeftFunc(line, unicode.IsSpace)
			n := spaces + fresh(i)
			cur = append(cur[:at+1], append([]string{n}, cur[at+1:]...)...)
			cur[at] = c
			commented[at], commented[at+1] = true, true
			edits = append(edits,
				records.LineEdit{Change: records.LineReplaced, Added: lineKey(c), Removed: lineKey(line)},
				records.LineEdit{Change: records.LineAdded, Added: lineKey(n)})
		case 1, 2: // a line appended (versionlock)
			n := fresh(i)
			cur = append(cur, n)
			edits = append(edits, records.LineEdit{Change: records.LineAdded, Added: lineKey(n)})
		case 3: // the last line removed
			last := cur[len(cur)-1]
			if last != lineKey(last) || commented[len(cur)-1] {
				continue
			}
			cur = cur[:len(cur)-1]
			edits = append(edits, records.LineEdit{Change: records.LineRemoved, Removed: last})
		case 4: // a line replaced by a fresh one (versionlock: no blanks)
			if commented[at] || cur[at] != lineKey(cur[at]) {
				continue
			}
			old := cur[at]
			n := fresh(i)
			cur[at] = n
			commented[at] = true
			edits = append(edits, records.LineEdit{Change: records.LineReplaced, Added: lineKey(n), Removed: lineKey(old)})
		}
	}
	if len(edits) == 0 {
		return "", "", nil, false
	}
	edited = strings.Join(cur, "\n")
	if len(cur) > 0 {
		edited += "\n"
	}
	return orig, edited, edits, true
}

func onlyPrintable(r rune) rune {
	if r == '\n' || r == '\r' || r == 0 || !unicode.IsPrint(r) {
		return 'x'
	}
	return r
}

// FuzzRemove removes any path from a tree with symlinks of every kind and
// checks that at most the one file the path resolves to went, that it was
// a file or a link inside the root and not protected, and that nothing
// outside the root or any directory was touched.
func FuzzRemove(f *testing.F) {
	for _, s := range []string{
		"/etc/ovirt-engine/engine.conf.d/10-setup-database.conf", "/etc/final-out", "/etc/link-out-abs/secret",
		"/etc/link-out-rel/secret", "/etc/iso-alias/11111111-2222/dom_md/metadata", "/etc/loop/x", "/../x",
		"/etc/link-in-rel/../link-out-abs/secret", "relative", "/etc/ovirt-engine/fifo", "/", "/etc/sysctl.d/ovirt-engine.conf",
		"/etc/link-in-abs/engine.conf.d/10-setup-pki.conf", "/etc//./ovirt-engine/./engine.conf.d/", "/etc/dangling",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, recorded string) {
		root, outside := hostTree(t)
		before, after := snapshotTree(t, root, outside), map[string]string(nil)
		info, inspectErr := Inspect(root, recorded)
		got, err := Remove(root, recorded)
		after = snapshotTree(t, root, outside)
		var vanished []string
		for p, kind := range before {
			if _, ok := after[p]; !ok {
				vanished = append(vanished, p)
				if kind == "dir" || strings.HasPrefix(p, outside) {
					t.Fatalf("Remove(%q) removed %s (%s)", recorded, p, kind)
				}
			}
		}
		if len(after) != len(before)-len(vanished) {
			t.Fatalf("Remove(%q) created files", recorded)
		}
		switch got {
		case Removed:
			if err != nil || inspectErr != nil || len(vanished) != 1 || vanished[0] != info.Path ||
				(info.Kind != Regular && info.Kind != Symlink) || info.Protected != "" {
				t.Fatalf("Remove(%q) = removed, %v; vanished %v; Inspect said %+v, %v", recorded, err, vanished, info, inspectErr)
			}
		case AlreadyGone, Kept:
			if len(vanished) != 0 {
				t.Fatalf("Remove(%q) = %q but %v vanished", recorded, got, vanished)
			}
			if got == Kept && err == nil {
				t.Fatalf("Remove(%q) kept it without saying why", recorded)
			}
		default:
			t.Fatalf("Remove(%q) = %q", recorded, got)
		}
	})
}

func snapshotTree(t *testing.T, dirs ...string) map[string]string {
	m := map[string]string{}
	for _, d := range dirs {
		err := filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			switch {
			case fi.IsDir():
				m[p] = "dir"
			case fi.Mode()&os.ModeSymlink != 0:
				m[p] = "link"
			default:
				m[p] = "file"
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return m
}
