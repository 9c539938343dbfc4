package records

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// ConfigLayerPaths returns oVirt's load order for a layered configuration,
// as recorded paths: each base, then the *.conf files (not hidden, not
// directories) of base+".d" sorted by name, as configfile.py globs them.
// Files that do not exist are left for LoadConfig to skip.
func ConfigLayerPaths(root string, bases ...string) ([]string, error) {
	var out []string
	for _, base := range bases {
		out = append(out, base)
		dir := base + ".d"
		names, err := listDir(root, dir, ".conf")
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			out = append(out, path.Join(dir, n))
		}
	}
	return out, nil
}

// ManifestPaths returns the uninstall manifests under root, oldest first.
func ManifestPaths(root string) ([]string, error) {
	names, err := listDir(root, UninstallDir, strings.TrimPrefix(ManifestGlob, "*"))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = path.Join(UninstallDir, n)
	}
	return out, nil
}

// listDir lists the non-hidden, non-directory entries of a recorded
// directory that end in suffix, sorted by name. A missing directory is
// empty.
func listDir(root, dir, suffix string) ([]string, error) {
	p, err := walkWithinRoot(root, dir, true)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", p, err)
	}
	var names []string
	for _, e := range entries { // ReadDir sorts by name
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, suffix) || e.IsDir() {
			continue
		}
		names = append(names, n)
	}
	return names, nil
}

// LoadConfig reads a layered configuration under root (bases as in
// EngineConfigBases), skipping missing files as oVirt does. Locations in
// the result and in errors name the files under root.
func LoadConfig(root string, bases ...string) (*Config, error) {
	paths, err := ConfigLayerPaths(root, bases...)
	if err != nil {
		return nil, err
	}
	var layers []Layer
	for _, p := range paths {
		data, shown, err := readShown(root, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		layers = append(layers, Layer{Path: shown, R: bytes.NewReader(data)})
	}
	return ParseLayered(layers)
}

// LoadManifests reads and merges every uninstall manifest under root. No
// manifest gives an empty Inventory.
func LoadManifests(root string) (*Inventory, error) {
	paths, err := ManifestPaths(root)
	if err != nil {
		return nil, err
	}
	var list []*Manifest
	for _, p := range paths {
		data, shown, err := readShown(root, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m, err := ParseManifest(shown, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		list = append(list, m)
	}
	return MergeManifests(list)
}

func readShown(root, recorded string) ([]byte, string, error) {
	shown, err := Resolve(root, recorded)
	if err != nil {
		return nil, "", err
	}
	data, err := ReadRecord(root, recorded)
	return data, shown, err
}

// ReportsDatabaseCredentials reads the Reports database credentials from
// ReportsBuildomaticProperties, a Java properties file that oVirt reads with
// configparser after prepending a [default] header: keys dbHost, dbPort,
// dbUsername, dbPassword and js.dbName. Values are taken literally: setup
// substituted the password unescaped into the file, and no interpolation
// applies to what jasper and the database saw. Secured is always false.
func ReportsDatabaseCredentials(path string, r io.Reader) (DBCreds, error) {
	sections, err := iniReader{implicitSection: "default"}.read(path, r)
	if err != nil {
		return DBCreds{}, err
	}
	if len(sections) != 1 {
		return DBCreds{}, syntaxErr(path, sections[1].line, "section header [%s] in a properties file; the file is damaged or not the Reports master.properties", sections[1].name)
	}
	values := map[string]iniOption{}
	for _, o := range sections[0].options {
		values[o.key] = o
	}
	pw, ok := values["dbPassword"]
	if !ok || pw.value == "" {
		return DBCreds{}, fmt.Errorf("%s: dbPassword is not set, so no Reports database is recorded: %w", path, ErrNotConfigured)
	}
	creds := DBCreds{Password: Secret(pw.value), Source: Location{path, pw.line}}
	for _, f := range []struct {
		key string
		dst *string
	}{{"dbHost", &creds.Host}, {"dbUsername", &creds.User}, {"js.dbName", &creds.Database}, {"dbPort", nil}} {
		o, ok := values[f.key]
		if !ok || o.value == "" {
			return DBCreds{}, syntaxErr(path, o.line, "%s is missing or empty although dbPassword is set on line %d; restore the file from a backup or add %s", f.key, pw.line, f.key)
		}
		if hasControl(o.value) {
			return DBCreds{}, syntaxErr(path, o.line, "%s contains a control character (a line break or a terminal escape); correct it or restore the file from a backup", f.key)
		}
		if f.dst != nil {
			*f.dst = o.value
			continue
		}
		if creds.Port, err = parsePort(o.value); err != nil {
			return DBCreds{}, syntaxErr(path, o.line, "dbPort %s %v; correct it to the port of the database server", quoteShort(o.value), err)
		}
	}
	return creds, nil
}
