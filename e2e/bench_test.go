package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/ovirthost"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
)

// union is the length covered by intervals [from, to).
func union(spans [][2]int64) int64 {
	slices.SortFunc(spans, func(a, b [2]int64) int { return int(a[0] - b[0]) })
	var total, end int64 = 0, -1 << 62
	for _, s := range spans {
		switch {
		case s[0] >= end:
			total += s[1] - s[0]
			end = s[1]
		case s[1] > end:
			total += s[1] - end
			end = s[1]
		}
	}
	return total
}

// BenchmarkWholeHostRun cleans a full host (engine with the full
// engine-like schema, DWH and Reports, real units) per iteration and splits
// the run's wall time into pg_dump, clearing, libvirt, waits for services
// to stop, the other actions, and engine-cleanup's own orchestration (plugin
// launch, init, validate, confirm, closeup, process start: the run's wall
// time outside every action). Concurrent backups overlap, so the per-kind
// figures are sums of durations while in-actions is their union. It reports
// the orchestration's share of the run excluding service waits (< 10%).
//
//	go test -run '^$' -bench WholeHostRun -benchtime 3x ./e2e/
func BenchmarkWholeHostRun(b *testing.B) {
	var wall, covered, dump, clear, virt, stop, other time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := newBenchSite(b)
		b.StartTimer()
		begin := time.Now()
		cmd := exec.Command(filepath.Join(binDir, "engine-cleanup"), append(append([]string{"--root", s.host.Root}, s.args...), "-u", "--json")...)
		cmd.Env = s.env
		out, err := cmd.Output()
		elapsed := time.Since(begin)
		b.StopTimer()
		if err != nil {
			b.Fatalf("run: %v", err)
		}
		var doc struct {
			Actions []struct {
				ID         string
				StartedMS  int64 `json:"started_ms"`
				DurationMS int64 `json:"duration_ms"`
			}
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			b.Fatal(err)
		}
		wall += elapsed
		// Backups run concurrently: the time spent in actions is the union
		// of their intervals, not the sum of their durations.
		var spans [][2]int64
		for _, a := range doc.Actions {
			spans = append(spans, [2]int64{a.StartedMS, a.StartedMS + a.DurationMS})
		}
		covered += time.Duration(union(spans)) * time.Millisecond
		for _, a := range doc.Actions {
			d := time.Duration(a.DurationMS) * time.Millisecond
			switch {
			case strings.HasSuffix(a.ID, ".backup.database"):
				dump += d
			case strings.HasSuffix(a.ID, ".clear.database"):
				clear += d
			case strings.HasPrefix(a.ID, "libvirt."):
				virt += d
			case strings.Contains(a.ID, ".stop."):
				stop += d
			default:
				other += d
			}
		}
		b.StartTimer()
	}
	n := float64(b.N)
	orch := wall - covered
	ms := func(d time.Duration) float64 { return float64(d) / n / float64(time.Millisecond) }
	b.ReportMetric(ms(wall), "run-ms")
	b.ReportMetric(ms(covered), "in-actions-ms")
	b.ReportMetric(ms(dump), "pg_dump-ms")
	b.ReportMetric(ms(clear), "clear-ms")
	b.ReportMetric(ms(virt), "libvirt-ms")
	b.ReportMetric(ms(stop), "service-wait-ms")
	b.ReportMetric(ms(other), "other-actions-ms")
	b.ReportMetric(ms(orch), "orchestration-ms")
	b.ReportMetric(100*float64(orch)/float64(wall-stop), "orchestration-%")
}

func newBenchSite(b *testing.B) *site {
	return newSiteTB(b, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Full(), dwh: true, reports: true,
		domains: true})
}
