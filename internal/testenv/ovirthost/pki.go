package ovirthost

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// PKI material is the slow part of a host: an RSA key takes tens to
// hundreds of milliseconds and a PKCS#12 keystore an openssl process. Both
// are cached for the life of the process, the keys by role and the whole
// PKI tree by what it depends on, so that every Build after the first
// only writes files. These caches are the package's only state.

// keyRoles are the keys a host needs; one RSA-2048 key per role is shared
// by every host of the process.
func keyRoles() []string {
	return []string{"ca", "qemu-ca", "engine", "jboss", "websocket-proxy", "apache", "reports", "host"}
}

var keyring struct {
	once sync.Once
	keys map[string]*rsa.PrivateKey
	err  error
}

func rsaKey(role string) (*rsa.PrivateKey, error) {
	keyring.once.Do(func() {
		roles := keyRoles()
		keys := make([]*rsa.PrivateKey, len(roles))
		errs := make([]error, len(roles))
		var wg sync.WaitGroup
		for i := range roles {
			wg.Go(func() { keys[i], errs[i] = rsa.GenerateKey(rand.Reader, 2048) })
		}
		wg.Wait()
		keyring.keys = map[string]*rsa.PrivateKey{}
		for i, r := range roles {
			keyring.keys[r] = keys[i]
		}
		keyring.err = errors.Join(errs...)
	})
	if keyring.err != nil {
		return nil, keyring.err
	}
	k, ok := keyring.keys[role]
	if !ok {
		panic("ovirthost: no key role " + role)
	}
	return k, nil
}

// pkiSpec is what a PKI tree depends on.
type pkiSpec struct {
	fqdn, org, storePassword string
	legacy                   bool // 3.2's installCA.sh layout
	qemu                     bool // the QEMU CA of oVirt 4.4 and later
}

type pkiEntry struct {
	once sync.Once
	tree *pkiTree
	err  error
}

var pkiTrees sync.Map // pkiSpec -> *pkiEntry

// pkiTree is the content of /etc/pki/ovirt-engine that setup and the
// engine made, by path relative to the PKI directory.
type pkiTree struct {
	files map[string][]byte
	// extracted are certificates and keys as "openssl pkcs12 -nokeys" or
	// "-nocerts -nodes" print them (with their bag attributes), which is
	// how setup writes the files it extracts from a keystore.
	extracted map[string][]byte
	// hostCert and hostReq are the enrolled host's files.
	hostCert, hostReq string
}

func buildPKI(spec pkiSpec) (*pkiTree, error) {
	e, _ := pkiTrees.LoadOrStore(spec, &pkiEntry{})
	entry := e.(*pkiEntry)
	entry.once.Do(func() { entry.tree, entry.err = makePKI(spec) })
	return entry.tree, entry.err
}

// entity is a certificate that setup enrolls with pki-enroll-pkcs12.sh.
type entity struct {
	name string
	// extract: setup also extracts certs/<name>.cer and
	// keys/<name>.key.nopass from the keystore (_expandPKCS12), and
	// records them.
	extract bool
	days    int
}

// otopiEntities are ca.py's _COMMON_ENTITIES.
func otopiEntities() []entity {
	return []entity{
		{"engine", false, 1825},
		{"jboss", false, 1825},
		{"websocket-proxy", true, 398},
		{"apache", true, 398},
		{"reports", true, 1825},
	}
}

// legacyEntities are what 3.2's installCA.sh enrolled.
func legacyEntities() []entity {
	return []entity{
		{"engine", false, 1825},
		{"apache", false, 1825},
		{"jboss", false, 1825},
	}
}

// openssl ca keeps its database in database.txt and numbers certificates
// from serial.txt, starting at 1000 (pki-create-ca.sh).
const firstSerial = 0x1000

func makePKI(spec pkiSpec) (*pkiTree, error) {
	if _, err := exec.LookPath("openssl"); err != nil {
		return nil, fmt.Errorf("the openssl command makes the PKCS#12 keystores and is missing: install it (apt-get install -y openssl): %w", err)
	}
	caKey, err := rsaKey("ca")
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	// pki-create-ca.sh and pki-enroll-request.sh start validity a day ago.
	notBefore := now.Add(-24 * time.Hour)
	t := &pkiTree{files: map[string][]byte{}, extracted: map[string][]byte{}}
	serial := int64(firstSerial)
	var index bytes.Buffer
	issued := func(cert *x509.Certificate, der []byte) {
		t.files[fmt.Sprintf("certs/%X.pem", cert.SerialNumber)] = pemCert(der)
		fmt.Fprintf(&index, "V\t%s\t\t%X\tunknown\t%s\n", cert.NotAfter.Format("060102150405Z"), cert.SerialNumber, opensslSubject(cert.Subject))
	}
	aia := aiaURL(spec.fqdn, "ca-certificate")

	// The CA: CN is the FQDN cut to 55 characters plus a random number
	// (ca.py _create_ca).
	cn := spec.fqdn
	if len(cn) > 55 {
		cn = cn[:55]
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{Country: []string{"US"}, Organization: []string{spec.org}, CommonName: cn + ".47183"},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          keyID(&caKey.PublicKey),
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("creating the CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	issued(caCert, caDER)
	serial++
	t.files["ca.pem"] = pemCert(caDER)
	t.files["private/ca.pem"], err = pemKey(caKey)
	if err != nil {
		return nil, err
	}
	t.files["certs/ca.der"] = caDER
	if t.files["requests/ca.csr"], err = csr(caKey); err != nil {
		return nil, err
	}

	sign := func(keyRole string, subject pkix.Name, dns string, days int) (*x509.Certificate, []byte, error) {
		key, err := rsaKey(keyRole)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               subject,
			NotBefore:             notBefore,
			NotAfter:              notBefore.AddDate(0, 0, days),
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			SubjectKeyId:          keyID(&key.PublicKey),
			IssuingCertificateURL: []string{aia},
			DNSNames:              []string{dns},
		}
		serial++
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, fmt.Errorf("signing %s: %w", subject.CommonName, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, err
		}
		issued(cert, der)
		return cert, der, nil
	}

	entities := otopiEntities()
	if spec.legacy {
		entities = legacyEntities()
	}
	type job struct {
		path      string
		keyPEM    []byte
		certPEM   []byte
		withNoKey bool
	}
	var jobs []job
	for _, e := range entities {
		cert, der, err := sign(e.name, pkix.Name{Country: []string{"US"}, Organization: []string{spec.org}, CommonName: spec.fqdn}, spec.fqdn, e.days)
		if err != nil {
			return nil, err
		}
		key, _ := rsaKey(e.name)
		keyPEM, err := pemKey(key)
		if err != nil {
			return nil, err
		}
		t.files["certs/"+e.name+".cer"] = pemCert(der)
		t.extracted["certs/"+e.name+".cer"], t.extracted["keys/"+e.name+".key.nopass"] = bagAttributes(cert, der, keyPEM)
		if t.files["requests/"+e.name+".req"], err = csr(key); err != nil {
			return nil, err
		}
		jobs = append(jobs, job{path: "keys/" + e.name + ".p12", keyPEM: keyPEM, certPEM: pemCert(der)})
		if e.name == "engine" {
			// pki/ssh.py: the engine's key, extracted for SSH to hosts.
			t.files["keys/engine_id_rsa"] = keyPEM
		}
	}
	// The truststore holds the CA certificate only; keytool made it, a
	// certificate-only PKCS#12 looks the same to every reader but Java.
	jobs = append(jobs, job{path: ".truststore", certPEM: pemCert(caDER), withNoKey: true})
	if spec.legacy {
		// 3.2 kept the CA's own keystore next to the truststore.
		caKeyPEM, _ := pemKey(caKey)
		jobs = append(jobs, job{path: ".keystore", keyPEM: caKeyPEM, certPEM: pemCert(caDER)})
	}

	if spec.qemu {
		qKey, err := rsaKey("qemu-ca")
		if err != nil {
			return nil, err
		}
		qTmpl := *caTmpl
		qTmpl.SerialNumber = big.NewInt(firstSerial)
		qTmpl.Subject = pkix.Name{Country: []string{"US"}, Organization: []string{spec.org}, OrganizationalUnit: []string{"qemu"}, CommonName: cn + ".58294"}
		qTmpl.SubjectKeyId = keyID(&qKey.PublicKey)
		qDER, err := x509.CreateCertificate(rand.Reader, &qTmpl, &qTmpl, &qKey.PublicKey, qKey)
		if err != nil {
			return nil, fmt.Errorf("creating the QEMU CA certificate: %w", err)
		}
		t.files["qemu-ca.pem"] = pemCert(qDER)
		if t.files["private/qemu-ca.pem"], err = pemKey(qKey); err != nil {
			return nil, err
		}
		t.files["certs/qemu-ca.der"] = qDER
	}

	// A host the engine enrolled after setup (vdsm's certificate): the
	// engine's doing, not setup's, so nothing records it.
	host := "host1." + domainOf(spec.fqdn)
	_, hostDER, err := sign("host", pkix.Name{Organization: []string{spec.org}, CommonName: host}, host, 1825)
	if err != nil {
		return nil, err
	}
	hostKey, _ := rsaKey("host")
	t.hostCert, t.hostReq = "certs/"+host+".cer", "requests/"+host+".req"
	t.files[t.hostCert] = pemCert(hostDER)
	if t.files[t.hostReq], err = csr(hostKey); err != nil {
		return nil, err
	}

	t.files["database.txt"] = index.Bytes()
	t.files["database.txt.attr"] = []byte("unique_subject = no\n")
	t.files["serial.txt"] = fmt.Appendf(nil, "%X\n", serial)

	// openssl is a process per keystore: run them side by side.
	errs := make([]error, len(jobs))
	out := make([][]byte, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			in := append(bytes.Clone(j.keyPEM), j.certPEM...)
			out[i], errs[i] = pkcs12Export(in, spec.storePassword, j.withNoKey)
		})
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
			return nil, fmt.Errorf("making %s: %w", j.path, errs[i])
		}
		t.files[j.path] = out[i]
	}
	return t, nil
}

// bagAttributes returns a certificate and its key as openssl pkcs12 prints
// them, the localKeyID being the SHA-1 of the certificate.
func bagAttributes(cert *x509.Certificate, der, keyPEM []byte) (certOut, keyOut []byte) {
	sum := sha1.Sum(der)
	var id strings.Builder
	for _, c := range sum {
		fmt.Fprintf(&id, "%02X ", c)
	}
	head := "Bag Attributes\n    localKeyID: " + id.String() + "\n"
	certOut = fmt.Appendf(nil, "%ssubject=%s\n\nissuer=%s\n\n%s", head, opensslSubject(cert.Subject), opensslSubject(cert.Issuer), pemCert(der))
	keyOut = append([]byte(head+"Key Attributes: <No Attributes>\n"), keyPEM...)
	return certOut, keyOut
}

// pkcs12Export runs what pki-enroll-pkcs12.sh runs: openssl pkcs12 -export
// of a key and certificate, protected by password. The password goes
// through the environment, not the command line.
func pkcs12Export(pemIn []byte, password string, noKeys bool) ([]byte, error) {
	args := []string{"pkcs12", "-export", "-passout", "env:OVIRTHOST_P12_PASSWORD"}
	if noKeys {
		args = append(args, "-nokeys")
	}
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(pemIn)
	cmd.Env = append(os.Environ(), "OVIRTHOST_P12_PASSWORD="+password)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("openssl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	if stdout.Len() == 0 {
		return nil, fmt.Errorf("openssl %s wrote nothing: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// pemKey writes the PKCS#8 form that OpenSSL 1.1 and later print.
func pemKey(k *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// csr is the request pki-enroll-pkcs12.sh makes: "openssl req -subj /",
// an empty subject that the signing script replaces.
func csr(k *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// keyID is the subjectKeyIdentifier "hash" method of RFC 5280 (SHA-1 of
// the public key bits), as openssl.conf asks.
func keyID(pub *rsa.PublicKey) []byte {
	sum := sha1.Sum(x509.MarshalPKCS1PublicKey(pub))
	return sum[:]
}

// opensslSubject prints a name the way openssl ca writes it into
// database.txt.
func opensslSubject(n pkix.Name) string {
	var b strings.Builder
	for _, c := range n.Country {
		b.WriteString("/C=" + c)
	}
	for _, o := range n.Organization {
		b.WriteString("/O=" + o)
	}
	for _, ou := range n.OrganizationalUnit {
		b.WriteString("/OU=" + ou)
	}
	b.WriteString("/CN=" + n.CommonName)
	return b.String()
}

func domainOf(fqdn string) string {
	if i := strings.IndexByte(fqdn, '.'); i >= 0 {
		return fqdn[i+1:]
	}
	return fqdn
}
