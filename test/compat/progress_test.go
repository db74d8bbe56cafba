package compat

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// TestProgress compares what sysdig and syscope print on stderr with -P (and
// with -w, which turns it on when reading a file): the percentage of the
// file read, as zlib reports its position, every 10000th event and at the
// end. Files with more than 10000 events are made from the 502 sample:
// compressed in several ways (zlib's position in a compressed file depends on
// where the deflate codes fall), concatenated (each new section makes libscap
// seek back), cut short by -n, filtered.
func TestProgress(t *testing.T) {
	requireSysdig(t)
	requireSyscope(t)
	dir := t.TempDir()
	const sample = "sysdig_inspect_502Error.scap"
	raw := readCapture(t, capturePath(t, sample))
	files := map[string]string{}
	for _, lv := range []int{gzip.NoCompression, gzip.BestSpeed, gzip.DefaultCompression, gzip.BestCompression, gzip.HuffmanOnly} {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, lv)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "gzip"+strconv.Itoa(lv)+".scap")
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		files["gzip level "+strconv.Itoa(lv)] = p
	}
	files["plain x3"] = concatFile(t, t.TempDir(), false, slices.Repeat([]string{sample}, 3)...)
	files["gzip members x3"] = concatFile(t, t.TempDir(), true, sample, "libs_curl_google.scap", sample)
	files["sample"] = capturePath(t, sample)

	type run struct {
		name string
		args []string
	}
	var runs []run
	for _, c := range findCaptures(t) {
		runs = append(runs, run{filepath.Base(c), []string{"-r", c, "-P"}})
	}
	for name, f := range files {
		runs = append(runs, run{name, []string{"-r", f, "-P"}})
	}
	runs = append(runs,
		run{"-n 15000", []string{"-r", files["gzip level -1"], "-P", "-n", "15000"}},
		run{"-n 30000 plain", []string{"-r", files["plain x3"], "-P", "-n", "30000"}},
		run{"filter", []string{"-r", files["gzip members x3"], "-P", "proc.name=curl"}},
		run{"-w", []string{"-r", files["gzip level 9"], "-w", filepath.Join(dir, "out.scap")}},
		run{"-w -e", []string{"-r", files["plain x3"], "-w", filepath.Join(dir, "out.scap"), "-e", "9999"}},
	)
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			parallelLimited(t)
			compareTools(t, r.args, append([]compareOption{noOracleCache(), compareStderrToo()}, knownDivergences...)...)
		})
	}
}
