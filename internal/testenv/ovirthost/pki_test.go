package ovirthost

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeystoresOpenWithTheRecordedPassword(t *testing.T) {
	for _, era := range []Era{EraOtopi, EraLegacy} {
		t.Run(string(era), func(t *testing.T) {
			opts := fakeDBs(Style330, false, false)
			opts.Era = era
			h := Build(t, t.TempDir(), opts)
			stores, _ := filepath.Glob(h.Path(pathPKIDir + "/keys/*.p12"))
			stores = append(stores, h.Path(pathPKIDir+"/.truststore"))
			want := 6 // 5 keystores and the truststore
			if era == EraLegacy {
				want = 4
			}
			if len(stores) != want {
				t.Fatalf("keystores %v, want %d", stores, want)
			}
			// In the otopi era the password is what 10-setup-pki.conf
			// records (TestRecordsPackageReadsTheHosts reads it back).
			if era == EraOtopi && !strings.Contains(string(readFile(t, h.Path(pathPKIConf))), pyEscape(h.KeystorePassword, `"\$`)) {
				t.Fatalf("10-setup-pki.conf does not record the keystore password")
			}
			for _, s := range stores {
				out, err := exec.Command("openssl", "pkcs12", "-in", s, "-passin", "pass:"+h.KeystorePassword, "-nokeys").CombinedOutput()
				if err != nil || !strings.Contains(string(out), "BEGIN CERTIFICATE") {
					t.Errorf("openssl pkcs12 -in %s with the recorded password: %v\n%s", s, err, out)
				}
				if out, err := exec.Command("openssl", "pkcs12", "-in", s, "-passin", "pass:wrong", "-nokeys").CombinedOutput(); err == nil {
					t.Errorf("%s opens with a wrong password:\n%s", s, out)
				}
			}
			out, err := exec.Command("openssl", "pkcs12", "-in", h.Path(pathPKIDir+"/keys/engine.p12"), "-passin", "pass:"+h.KeystorePassword, "-nocerts", "-nodes").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "PRIVATE KEY") {
				t.Errorf("engine.p12 holds no key: %v\n%s", err, out)
			}
		})
	}
}

func TestCertificatesVerifyAgainstTheCA(t *testing.T) {
	for _, era := range []Era{EraOtopi, EraLegacy} {
		t.Run(string(era), func(t *testing.T) {
			opts := fakeDBs(Style330, false, false)
			opts.Era = era
			opts.FQDN = "manager.lab.example.org"
			h := Build(t, t.TempDir(), opts)
			roots := x509.NewCertPool()
			ca := parseCert(t, h.Path(pathPKIDir+"/ca.pem"))
			if !ca.IsCA {
				t.Fatalf("ca.pem is not a CA certificate")
			}
			roots.AddCert(ca)
			// apache-ca.pem is a link to it.
			if link := parseCert(t, h.Path(pathPKIDir+"/apache-ca.pem")); !link.Equal(ca) {
				t.Errorf("apache-ca.pem is not the CA")
			}
			certs, _ := filepath.Glob(h.Path(pathPKIDir + "/certs/*.cer"))
			if len(certs) < 4 {
				t.Fatalf("certificates %v", certs)
			}
			for _, c := range certs {
				cert := parseCert(t, c)
				name := opts.FQDN
				if strings.HasPrefix(filepath.Base(c), "host1.") {
					name = "host1.lab.example.org"
				}
				if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
					t.Errorf("%s does not verify against ca.pem: %v", c, err)
				}
			}
			if era == EraOtopi {
				q := parseCert(t, h.Path(pathPKIDir+"/qemu-ca.pem"))
				if !q.IsCA || q.CheckSignatureFrom(q) != nil || q.Subject.OrganizationalUnit[0] != "qemu" {
					t.Errorf("qemu-ca.pem is not a self-signed qemu CA: %v", q.Subject)
				}
				// The private key files match their certificates.
				key := parsePEM(t, h.Path(pathPKIDir+"/keys/apache.key.nopass"), "PRIVATE KEY")
				k, err := x509.ParsePKCS8PrivateKey(key)
				if err != nil {
					t.Fatal(err)
				}
				apache := parseCert(t, h.Path(pathPKIDir+"/certs/apache.cer"))
				if !apache.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.(crypto.Signer).Public()) {
					t.Errorf("keys/apache.key.nopass is not the key of certs/apache.cer")
				}
			}
		})
	}
}

func parseCert(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(parsePEM(t, p, "CERTIFICATE"))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return c
}

// parsePEM returns the first block of type typ, skipping the bag
// attributes openssl prints before it.
func parsePEM(t *testing.T, p, typ string) []byte {
	t.Helper()
	rest := readFile(t, p)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			t.Fatalf("%s holds no %s", p, typ)
		}
		if b.Type == typ {
			return b.Bytes
		}
	}
}
