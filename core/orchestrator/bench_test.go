package orchestrator

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/core/pluginhost"
)

// BenchmarkLaunchCost compares, in one run and interleaved so that machine
// noise hits all alike, launching one bare plugin (start, handshake, info,
// stop) with --list-plugins over the four built-ins and over the built-ins
// plus 16 external plugins. It reports medians and the ratios to the bare
// launch; SPEC §8 wants the built-ins at no more than about 2x.
//
//	go test -run '^$' -bench LaunchCost -benchtime 30x ./core/orchestrator/
func BenchmarkLaunchCost(b *testing.B) {
	dir := b.TempDir()
	build := func(out, pkg string) string {
		path := filepath.Join(dir, out)
		cmd := exec.Command("go", "build", "-tags", "libvirt_dlopen", "-o", path, pkg)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("building %s: %v", pkg, err)
		}
		return path
	}
	self := build("engine-cleanup", "../../cmd/engine-cleanup")
	lv := build("engine-cleanup-libvirt", "../../cmd/engine-cleanup-libvirt")
	plugin := build("testplugin", "../../internal/testplugin")
	bare := filepath.Join(dir, "bare", "engine-cleanup-plugin-bare")
	extDir := filepath.Join(dir, "ext")
	for _, d := range []string{filepath.Dir(bare), extDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	copyFile(b, plugin, bare)
	for i := 1; i <= 16; i++ {
		copyFile(b, plugin, filepath.Join(extDir, fmt.Sprintf("engine-cleanup-plugin-ext%02d", i)))
	}
	builtins := []pluginhost.Spec{{Name: "built-ins", Path: self, Args: []string{"__builtin-plugin"}, BuiltIn: true,
		Serves: []string{"engine", "dwh", "reports"}}, {Name: "libvirt", Path: lv, BuiltIn: true}}
	cfg := Config{Version: "bench", BuiltIns: builtins, StartTimeout: 20 * time.Second, UID: os.Geteuid()}
	withExt := cfg
	withExt.PluginDirs = []string{extDir}
	iop := IO{Out: io.Discard, Err: io.Discard}
	ctx := context.Background()

	var bareT, builtinT, extT []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		begin := time.Now()
		ps, err := pluginhost.Launch(ctx, pluginhost.Spec{Name: "bare", Path: bare}, pluginhost.Options{StartTimeout: 20 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		pluginhost.CloseAll(ps)
		bareT = append(bareT, time.Since(begin))

		begin = time.Now()
		if err := ListPlugins(ctx, cfg, iop, nil); err != nil {
			b.Fatal(err)
		}
		builtinT = append(builtinT, time.Since(begin))

		begin = time.Now()
		if err := ListPlugins(ctx, withExt, iop, nil); err != nil {
			b.Fatal(err)
		}
		extT = append(extT, time.Since(begin))
	}
	b.StopTimer()
	mb, mi, me := median(bareT), median(builtinT), median(extT)
	b.ReportMetric(ms(mb), "bare-ms")
	b.ReportMetric(ms(mi), "builtins-ms")
	b.ReportMetric(ms(me), "builtins+16-ms")
	b.ReportMetric(float64(mi)/float64(mb), "builtins/bare")
	b.ReportMetric(float64(me)/float64(mb), "builtins+16/bare")
}

func copyFile(b *testing.B, src, dst string) {
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		b.Fatal(err)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
