package db

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/jackc/pgx/v5"
)

// BenchmarkClear clears copies of the full engine-like schema (3,900
// objects) three ways, each on a fresh copy made outside the timer:
//
//   - ours: Clear (one DROP OWNED, plus its checks and verification);
//   - perobject: one DROP ... CASCADE per object in the order of oVirt's
//     engine_common/database.py (views and tables of public, sequences,
//     public functions except uuid_% by oidvectortypes signature,
//     composite types, the role's other schemas), autocommit, each kind
//     listed just before it is dropped;
//   - dropdb: DROP DATABASE and CREATE DATABASE ... OWNER as the
//     superuser, what a cleanup with superuser rights could do instead;
//
// once over a direct connection and once through a proxy that adds 0.5 ms
// each way (1 ms round trip), as a remote database has. Run with
//
//	go test -run '^$' -bench . -benchtime 3x ./plugins/db/
//
// Every figure is the median over the iterations (the machines these run
// on are shared and noisy); autovacuum is off so that the churn of one
// method does not slow the next one down.
func BenchmarkClear(b *testing.B) {
	c := fullCluster(b, pgtest.WithSetting("autovacuum", "off"))
	// The superuser needs a password to come in over TCP for dropdb.
	const superPW = "super-pw"
	c.Exec(b, "postgres", "ALTER ROLE postgres PASSWORD "+pgtest.Literal(superPW))
	objects := len(c.ObjectsOwnedBy(b, engineDB, engineRole))

	for _, link := range []struct {
		name   string
		oneWay time.Duration
	}{{"local", 0}, {"rtt-1ms", 500 * time.Microsecond}} {
		b.Run(link.name, func(b *testing.B) {
			port := c.Port()
			if link.oneWay > 0 {
				p := startLatencyProxy(b, "127.0.0.1:"+strconv.Itoa(c.Port()), link.oneWay)
				port = p.port()
			}
			ctx := context.Background()
			target := func(db string) Target {
				return Target{Host: "127.0.0.1", Port: port, User: engineRole, Password: enginePW, Database: db}
			}
			b.ReportMetric(float64(measureRTT(b, target(engineDB)).Microseconds())/1000, "rtt-ms")

			var ours, perObj, dropdb samples
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				names := map[string]string{}
				for _, m := range []string{"ours", "perobject", "dropdb"} {
					names[m] = fmt.Sprintf("bench_%s_%s_%d", link.name[:3], m, i)
					c.CloneDatabase(b, engineDB, names[m], engineRole)
				}
				b.StartTimer()

				runs := []func(){
					func() {
						start := time.Now()
						res, err := Clear(ctx, target(names["ours"]), nil)
						ours.add(time.Since(start))
						if err != nil || res.Method != MethodDropOwned {
							b.Fatalf("Clear: %v (%s)", err, res.Method)
						}
					},
					func() {
						start := time.Now()
						n, err := clearPerObject(ctx, target(names["perobject"]))
						perObj.add(time.Since(start))
						if err != nil {
							b.Fatalf("per-object clear after %d statements: %v", n, err)
						}
					},
					func() {
						start := time.Now()
						err := dropAndCreate(ctx, Target{Host: "127.0.0.1", Port: port, User: "postgres", Password: superPW, Database: "postgres"},
							names["dropdb"], engineRole)
						dropdb.add(time.Since(start))
						if err != nil {
							b.Fatalf("dropdb/createdb: %v", err)
						}
					},
				}
				// Rotate who goes first, so that no method always pays
				// for caches another one warmed.
				for j := range runs {
					runs[(i+j)%len(runs)]()
				}

				b.StopTimer()
				if left := c.ObjectsOwnedBy(b, names["ours"], engineRole); len(left) != 0 {
					b.Fatalf("Clear left %d objects", len(left))
				}
				for _, db := range names {
					c.Exec(b, "postgres", "DROP DATABASE "+pgtest.Ident(db))
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(objects), "objects")
			b.ReportMetric(ours.medianMS(), "ours-ms")
			b.ReportMetric(perObj.medianMS(), "perobject-ms")
			b.ReportMetric(dropdb.medianMS(), "dropdb-ms")
			b.ReportMetric(ours.medianMS()/perObj.medianMS(), "ours/perobject")
			b.ReportMetric(ours.medianMS()/dropdb.medianMS(), "ours/dropdb")
			b.Logf("ours %v, per-object %v, dropdb %v", ours, perObj, dropdb)
		})
	}
}

// BenchmarkBackup compares Backup with pg_dump alone (same options, the
// password in PGPASSWORD, no fsync, no rename) on the full engine-like
// schema over TCP, alternating which goes first.
func BenchmarkBackup(b *testing.B) {
	c := fullCluster(b)
	ctx := context.Background()
	tool, err := CheckDumpTool(ctx, 15)
	if err != nil {
		b.Fatal(err)
	}
	tg := remoteTarget(c, engineDB)
	dir := b.TempDir()
	// Warm the server's caches: the first dump of a fresh cluster reads
	// every catalog from disk.
	if _, err := Backup(ctx, tg, tool, BackupOptions{Dir: dir, Prefix: "engine"}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var ours, alone samples
	var size int64
	for i := 0; i < b.N; i++ {
		runOurs := func() {
			start := time.Now()
			path, err := Backup(ctx, tg, tool, BackupOptions{Dir: dir, Prefix: "engine"})
			ours.add(time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			if info, err := os.Stat(path); err == nil {
				size = info.Size()
			}
		}
		runAlone := func() {
			cmd := exec.Command(tool.Path, "--format=custom", "--encoding=UTF8", "--disable-dollar-quoting",
				"--disable-triggers", "--no-password", "--file="+filepath.Join(dir, "alone.dump"), "--dbname="+tg.conninfo())
			cmd.Env = append(os.Environ(), "PGPASSWORD="+enginePW)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			alone.add(time.Since(start))
			if err != nil {
				b.Fatalf("pg_dump: %v\n%s", err, out)
			}
		}
		if i%2 == 0 {
			runOurs()
			runAlone()
		} else {
			runAlone()
			runOurs()
		}
		b.StopTimer()
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(size), "dump-bytes")
	b.ReportMetric(alone.medianMS(), "pgdump-ms")
	b.ReportMetric(ours.medianMS(), "ours-ms")
	b.ReportMetric(ours.medianMS()/alone.medianMS(), "ours/pgdump")
	b.Logf("ours %v, pg_dump alone %v", ours, alone)
}

// samples are the durations of one method over the iterations.
type samples []time.Duration

func (s *samples) add(d time.Duration) { *s = append(*s, d) }

func (s samples) medianMS() float64 {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	m := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		m = (sorted[len(sorted)/2-1] + m) / 2
	}
	return float64(m) / float64(time.Millisecond)
}

func (s samples) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.Round(time.Millisecond).String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// clearPerObject is oVirt's clearing (engine_common/database.py): as the
// application role, autocommit, one DROP ... IF EXISTS ... CASCADE per
// object. oVirt predates procedures; they are dropped after the functions
// so that the run completes. It leaves enums and domains behind, as oVirt
// did.
func clearPerObject(ctx context.Context, t Target) (int, error) {
	conn, _, err := Connect(ctx, t)
	if err != nil {
		return 0, err
	}
	defer closeQuietly(conn)
	steps := []struct{ list, drop string }{
		{`SELECT quote_ident(table_name) FROM information_schema.views WHERE table_schema = 'public'`,
			"DROP VIEW IF EXISTS %s CASCADE"},
		{`SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
			"DROP TABLE IF EXISTS %s CASCADE"},
		{`SELECT quote_ident(sequence_name) FROM information_schema.sequences WHERE sequence_schema = 'public'`,
			"DROP SEQUENCE IF EXISTS %s CASCADE"},
		{`SELECT quote_ident(proname) || '(' || oidvectortypes(proargtypes) || ')' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		  WHERE n.nspname = 'public' AND p.prokind = 'f' AND proname NOT ILIKE 'uuid_%'`,
			"DROP FUNCTION IF EXISTS %s CASCADE"},
		{`SELECT quote_ident(proname) || '(' || oidvectortypes(proargtypes) || ')' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		  WHERE n.nspname = 'public' AND p.prokind = 'p'`,
			"DROP PROCEDURE IF EXISTS %s CASCADE"},
		{`SELECT quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'c'`,
			"DROP TYPE IF EXISTS %s CASCADE"},
		{`SELECT quote_ident(nspname) FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND nspname <> 'public'`,
			"DROP SCHEMA IF EXISTS %s CASCADE"},
	}
	n := 0
	for _, s := range steps {
		rows, err := conn.Query(ctx, s.list)
		if err != nil {
			return n, err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return n, err
		}
		for _, name := range names {
			if _, err := conn.Exec(ctx, fmt.Sprintf(s.drop, name)); err != nil {
				return n, fmt.Errorf("%s: %w", name, err)
			}
			n++
		}
	}
	return n, nil
}

// dropAndCreate is dropdb + createdb through one superuser session.
func dropAndCreate(ctx context.Context, super Target, db, owner string) error {
	conn, _, err := Connect(ctx, super)
	if err != nil {
		return err
	}
	defer closeQuietly(conn)
	if _, err := conn.Exec(ctx, "DROP DATABASE "+ident(db)); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+ident(db)+" OWNER "+ident(owner))
	return err
}

// measureRTT is the median time of SELECT 1 over t.
func measureRTT(b *testing.B, t Target) time.Duration {
	ctx := context.Background()
	conn, _, err := Connect(ctx, t)
	if err != nil {
		b.Fatal(err)
	}
	defer closeQuietly(conn)
	var samples []time.Duration
	for i := 0; i < 21; i++ {
		start := time.Now()
		if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
	}
	for i := range samples { // insertion sort: 21 items
		for j := i; j > 0 && samples[j] < samples[j-1]; j-- {
			samples[j], samples[j-1] = samples[j-1], samples[j]
		}
	}
	return samples[len(samples)/2]
}

// latencyProxy forwards TCP connections to a server, delaying every chunk
// of data by a fixed time in each direction without limiting bandwidth:
// a stand-in for the link to a remote database.
type latencyProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func startLatencyProxy(tb testing.TB, target string, oneWay time.Duration) *latencyProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &latencyProxy{ln: ln, target: target, delay: oneWay}
	p.wg.Add(1)
	go p.serve()
	tb.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *latencyProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *latencyProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(server.(*net.TCPConn), client.(*net.TCPConn))
		go p.pipe(client.(*net.TCPConn), server.(*net.TCPConn))
	}
}

type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, each chunk delivered p.delay after it was read.
func (p *latencyProxy) pipe(dst, src *net.TCPConn) {
	defer p.wg.Done()
	queue := make(chan chunk, 4096)
	go func() {
		defer close(queue)
		for {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				queue <- chunk{buf[:n], time.Now().Add(p.delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range queue {
		if d := time.Until(c.due); d > 0 {
			// Go's timers round sub-millisecond sleeps up to about a
			// millisecond; nanosleep blocks this thread for the time
			// asked (the runtime hands the P to another thread).
			ts := syscall.NsecToTimespec(int64(d))
			_ = syscall.Nanosleep(&ts, nil)
		}
		if _, err := dst.Write(c.data); err != nil {
			src.Close() // ends the reader
			break
		}
	}
	for range queue { // drain so the reader can end
	}
	_ = dst.CloseWrite() // pass the end of the stream on
	src.Close()
}
