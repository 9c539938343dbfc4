package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/sdk"
	"github.com/engine-cleanup/engine-cleanup/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	t.Run("with the default answers", func(t *testing.T) {
		sdktest.Run(t, sdktest.Config{
			New:   func() sdk.Plugin { return &example{} },
			Setup: installExampleApp,
		})
	})
	t.Run("keeping the cache", func(t *testing.T) {
		sdktest.Run(t, sdktest.Config{
			New:     func() sdk.Plugin { return &example{} },
			Setup:   installExampleApp,
			Answers: sdk.Answers{cacheKey: "false"},
		})
	})
}

// installExampleApp lays out example-app as a site would have installed it:
// its record, a running daemon, data (a nested directory and a file the
// backup must skip) and a cache.
func installExampleApp(t testing.TB, root string) {
	t.Helper()
	files := map[string]string{
		record:                                  "# example-app record\ndata=/var/lib/example-app\n",
		runMarker:                               "1234\n",
		dataDir + "/data/records.db":            "some records\n",
		dataDir + "/data/archive/2023.db":       "older records\n",
		dataDir + "/settings.json":              `{"retention": 30}` + "\n",
		cacheDir + "/x":                         "cached\n",
		cacheDir + "/thumbnails/0001.png":       "\x89PNG\r\n",
		"/etc/example-app/unrelated-local.conf": "kept: not ours to remove\n",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("records.db", filepath.Join(root, dataDir, "data", "current.db")); err != nil {
		t.Fatal(err)
	}
}
