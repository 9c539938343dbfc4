package otopi

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// postInstall45 is a post-install file as engine-setup 4.5.6 writes it
// (core/postinstall.py, via otopi.Write; see internal/testenv/ovirthost).
const postInstall45 = `[environment:default]
OVESETUP_CL_DB/enable=bool:False
OVESETUP_CONFIG/adminUser=str:admin@internal
OVESETUP_CONFIG/adminUserAuthzName=str:internal-authz
OVESETUP_CONFIG/adminUserAuthzType=str:ovirt-engine-extension-aaa-jdbc
OVESETUP_CONFIG/adminUserId=str:5c8d1a9e-46b4-4c1e-9a4b-0f6b4a0c2d11
OVESETUP_CONFIG/adminUserNamespace=str:*
OVESETUP_CONFIG/firewallManager=none:None
OVESETUP_CONFIG/fqdn=str:engine.example.com
OVESETUP_CONFIG/sanWipeAfterDelete=bool:False
OVESETUP_CONFIG/websocketProxyConfig=bool:True
OVESETUP_CORE/generatedByVersion=str:4.5.6
OVESETUP_DWH_CONFIG/remoteEngineConfigured=bool:False
OVESETUP_DWH_CONFIG/scale=str:1
OVESETUP_DWH_CORE/enable=bool:True
OVESETUP_ENGINE_CONFIG/fqdn=str:engine.example.com
OVESETUP_ENGINE_CORE/enable=bool:True
OVESETUP_GRAFANA_CORE/enable=bool:True
OVESETUP_MB_DB/enable=bool:False
OVESETUP_OVN/ovirtProviderOvn=bool:True
OVESETUP_OVN/ovirtProviderOvnId=str:0d3f5e8a-9b1c-4c2d-8e4f-a1b2c3d4e5f6
OVESETUP_OVN/ovirtProviderOvnSecret=str:Xq7%%rT2$kP9
OVESETUP_PKI/country=str:US
OVESETUP_PKI/organization=str:example.com
OVESETUP_VMCONSOLE_PROXY_CONFIG/vmconsoleProxyConfig=bool:True
`

// postInstall33 is what 3.3 wrote: no header comment either, the ISO
// domain keys and Reports.
const postInstall33 = `[environment:default]
OVESETUP_CONFIG/firewallManager=none:None
OVESETUP_CONFIG/fqdn=str:engine.example.com
OVESETUP_CONFIG/isoDomainExists=bool:False
OVESETUP_CONFIG/isoDomainMountPoint=str:/var/lib/exports/iso
OVESETUP_CONFIG/isoDomainName=str:ISO_DOMAIN
OVESETUP_CONFIG/isoDomainSdUuid=str:1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0
OVESETUP_CONFIG/isoDomainStorageDir=str:/var/lib/exports/iso/1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0/images/11111111-1111-1111-1111-111111111111
OVESETUP_CONFIG/sanWipeAfterDelete=bool:False
OVESETUP_CORE/generatedByVersion=str:3.3.0
OVESETUP_DWH_CORE/enable=bool:False
OVESETUP_ENGINE_CORE/enable=bool:True
OVESETUP_PKI/country=str:US
OVESETUP_PKI/organization=str:example.com
OVESETUP_REPORTS_CORE/enable=bool:False
OVESETUP_SYSTEM/nfsConfigEnabled_legacyInPostInstall=bool:True
`

// The keys the plugins read from the post-install file, with the type they
// read them as.
var postInstallLookups = []struct {
	key string
	typ Type
}{
	{"OVESETUP_ENGINE_CORE/enable", TypeBool},
	{"OVESETUP_DWH_CORE/enable", TypeBool},
	{"OVESETUP_REPORTS_CORE/enable", TypeBool},
	{"OVESETUP_GRAFANA_CORE/enable", TypeBool},
	{"OVESETUP_CORE/generatedByVersion", TypeStr},
	{"OVESETUP_CONFIG/fqdn", TypeStr},
	{"OVESETUP_CONFIG/isoDomainStorageDir", TypeStr},
	{"OVESETUP_DWH_CONFIG/scale", TypeStr},
}

// FuzzPostInstall reads a post-install file the way the plugins do
// (Parse, Merge, then Env.Bool and Env.Str of the keys they use) and checks
// the result against a model of otopi's section precedence: the value of a
// key is the one of the strongest section that sets it (enforce, override,
// init, default), every value keeps the file and line it came from, lookups
// succeed exactly when the type matches, base values are kept only against
// defaults, and the merged environment shares nothing with the file.
func FuzzPostInstall(f *testing.F) {
	for _, seed := range []string{
		postInstall45,
		postInstall33,
		"# engine-setup\n" + postInstall45 + "[environment:override]\nOVESETUP_ENGINE_CORE/enable=bool:False\n",
		"[environment:enforce]\nOVESETUP_CORE/generatedByVersion=str:99.0.0\n[environment:default]\nOVESETUP_CORE/generatedByVersion=str:4.5.6\n",
		"[environment:init]\nOVESETUP_ENGINE_CORE/enable=str:True\nOVESETUP_CORE/generatedByVersion=multi-str:4.5\n 6\n",
		"[environment:default]\nOVESETUP_ENGINE_CORE/enable=bool:yes\nOVESETUP_ENGINE_CORE/enable=bool:f\n[environment:defaults]\nX=y\n",
		"[environment:default]\nOVESETUP_CORE/generatedByVersion=int:4\nOVESETUP_DWH_CORE/enable=none:None\n",
		"[environment:default]\nOVESETUP_ENGINE_CORE/enable=bool:no\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "/etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf"
		file, err := Parse(name, bytes.NewReader(data))
		if err != nil {
			var se *SyntaxError
			switch {
			case errors.As(err, &se):
				if se.File != name || se.Line < 1 {
					t.Fatalf("error at an impossible position: %v", err)
				}
			case !errors.Is(err, ErrTooLarge):
				t.Fatalf("undocumented error %T: %v", err, err)
			}
			if file != nil {
				t.Fatalf("a file with an error: %+v", file)
			}
			return
		}

		// The model: the strongest section wins, whatever the order in
		// the file.
		rank := map[Section]int{SectionDefault: 1, SectionInit: 2, SectionOverride: 3, SectionEnforce: 4}
		want := map[string]Entry{}
		seen := map[[2]string]bool{}
		for _, e := range file.Entries {
			r := rank[e.Section]
			if r == 0 {
				t.Fatalf("entry of section %q kept", e.Section)
			}
			if seen[[2]string{string(e.Section), e.Key}] {
				t.Fatalf("%s repeated in [%s] of Entries", e.Key, e.Section)
			}
			seen[[2]string{string(e.Section), e.Key}] = true
			if !validKey(e.Key) {
				t.Fatalf("invalid key %q accepted", e.Key)
			}
			if e.Value.File != name || e.Value.Line < 1 || e.Value.Line > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("%s has origin %s:%d", e.Key, e.Value.File, e.Value.Line)
			}
			if w, ok := want[e.Key]; !ok || rank[w.Section] < r {
				want[e.Key] = e
			}
		}
		env := Merge(file)
		if len(env) != len(want) {
			t.Fatalf("Merge gave %d keys, want %d", len(env), len(want))
		}
		for k, e := range want {
			got := env[k]
			if !got.Equal(e.Value) || got.File != e.Value.File || got.Line != e.Value.Line {
				t.Fatalf("%s = %v (line %d), want %v (line %d) from [%s]", k, got, got.Line, e.Value, e.Value.Line, e.Section)
			}
		}
		if again := Merge(nil, file, nil); !envEqual(again, env) {
			t.Fatal("Merge is not deterministic or does not skip nil files")
		}

		// The lookups the plugins make.
		for _, l := range postInstallLookups {
			v, present := env[l.key]
			b, bok := env.Bool(l.key)
			s, sok := env.Str(l.key)
			i, iok := env.Int(l.key)
			if bok != (present && v.Type == TypeBool) || sok != (present && v.Type == TypeStr) || iok != (present && v.Type == TypeInt) {
				t.Fatalf("%s of type %q: Bool ok %v, Str ok %v, Int ok %v", l.key, v.Type, bok, sok, iok)
			}
			if (bok && b != v.Bool) || (!bok && b) || (sok && s != v.Str) || (!sok && s != "") || (iok && i != v.Int) || (!iok && i != 0) {
				t.Fatalf("%s: lookups disagree with the value %v: %v %q %d", l.key, v, b, s, i)
			}
		}

		// A base is kept against defaults only.
		base := Env{}
		for _, l := range postInstallLookups {
			base[l.key] = Str("from-base")
		}
		onto := MergeOnto(base, file)
		for _, l := range postInstallLookups {
			e, inFile := want[l.key]
			got := onto[l.key]
			switch {
			case !inFile || e.Section == SectionDefault:
				if !got.Equal(Str("from-base")) {
					t.Fatalf("%s: a default replaced the base: %v", l.key, got)
				}
			case !got.Equal(e.Value):
				t.Fatalf("%s: [%s] did not replace the base: %v", l.key, e.Section, got)
			}
		}
		for k, v := range env {
			if _, inBase := base[k]; !inBase && !onto[k].Equal(v) {
				t.Fatalf("%s: MergeOnto gave %v, Merge %v", k, onto[k], v)
			}
		}
		if v := base["OVESETUP_ENGINE_CORE/enable"]; !v.Equal(Str("from-base")) {
			t.Fatal("MergeOnto modified its base")
		}

		// The environment shares no slice with the file: a caller that
		// edits a multi-str must not change the record.
		for k, v := range env {
			if v.Type == TypeMultiStr && len(v.Lines) > 0 {
				before := slices.Clone(want[k].Value.Lines)
				v.Lines[0] += "-changed"
				for _, e := range file.Entries {
					if e.Key == k && e.Section == want[k].Section && !slices.Equal(e.Value.Lines, before) {
						t.Fatalf("%s: editing the merged value changed the file", k)
					}
				}
			}
		}
	})
}

// The seeds must stay what engine-setup writes, or the fuzzer starts from
// error paths only.
func TestPostInstallSeedsReadAsEngineSetupMeantThem(t *testing.T) {
	for _, c := range []struct {
		text, version string
		dwh           bool
	}{{postInstall45, "4.5.6", true}, {postInstall33, "3.3.0", false}} {
		f, err := Parse("post.conf", bytes.NewReader([]byte(c.text)))
		if err != nil || len(f.Warnings) != 0 {
			t.Fatalf("%v %q", err, f.Warnings)
		}
		env := Merge(f)
		if on, ok := env.Bool("OVESETUP_ENGINE_CORE/enable"); !ok || !on {
			t.Errorf("%s: engine not enabled", c.version)
		}
		if v, _ := env.Str("OVESETUP_CORE/generatedByVersion"); v != c.version {
			t.Errorf("version %q, want %s", v, c.version)
		}
		if on, ok := env.Bool("OVESETUP_DWH_CORE/enable"); !ok || on != c.dwh {
			t.Errorf("%s: DWH enabled %v, %v", c.version, on, ok)
		}
		var out bytes.Buffer
		if err := Write(&out, "", env); err != nil || out.String() != c.text {
			t.Errorf("%s: not what otopi.Write writes (%v):\n%s", c.version, err, out.String())
		}
	}
}
