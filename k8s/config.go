package k8s

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ErrNoConfig is returned when no API server is named and neither a
// kubeconfig file nor an in-cluster service account is there.
var ErrNoConfig = errors.New("k8s: no API server: no kubeconfig file and not running in a cluster")

// dialTimeout bounds connecting to the API server.
const dialTimeout = 5 * time.Second

// restConfig makes the client configuration of o: sysdig's -k URL and -K
// credentials when a URL is given, a kubeconfig file or the in-cluster
// service account otherwise.
func restConfig(o *options) (*rest.Config, error) {
	var cfg *rest.Config
	if o.server != "" {
		var err error
		if cfg, err = urlConfig(o.server, o.cert); err != nil {
			return nil, err
		}
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules() // $KUBECONFIG, ~/.kube/config
		rules.ExplicitPath = o.kubeconfig
		c, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
		switch {
		case err == nil:
			cfg = c
		case clientcmd.IsEmptyConfig(err) && o.kubeconfig == "":
			if cfg, err = rest.InClusterConfig(); err != nil {
				return nil, ErrNoConfig
			}
		default:
			return nil, fmt.Errorf("k8s: %w", err)
		}
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "syscope"
	cfg.Dial = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	// No overall request timeout: it would cut the watches. Lists get their
	// own (see listTimeout).
	cfg.Timeout = 0
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 20, 40
	}
	return cfg, nil
}

// urlConfig is the configuration sysdig makes of -k URL and -K: basic
// authentication from the URL's user and password, a bearer token file or a
// client certificate from -K, and a check of the server's certificate only
// when -K names a CA certificate.
func urlConfig(server, cert string) (*rest.Config, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("k8s: invalid API server URL %q", server)
	}
	cfg := &rest.Config{}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		u.User = nil
	}
	cfg.Host = u.String()
	if u.Scheme == "https" {
		cfg.TLSClientConfig.Insecure = true
	}
	if cert == "" {
		return cfg, nil
	}
	c, err := ParseCertSpec(cert)
	if err != nil {
		return nil, err
	}
	if c.TokenFile != "" {
		tok, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("k8s: bearer token: %w", err)
		}
		if strings.TrimSpace(string(tok)) == "" {
			return nil, fmt.Errorf("k8s: bearer token file %s is empty", c.TokenFile)
		}
		cfg.BearerTokenFile = c.TokenFile
		return cfg, nil
	}
	if cfg.TLSClientConfig.CertData, err = os.ReadFile(c.CertFile); err != nil {
		return nil, fmt.Errorf("k8s: client certificate: %w", err)
	}
	key, err := os.ReadFile(c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("k8s: client key: %w", err)
	}
	if c.KeyPassword != "" {
		if key, err = decryptKey(key, c.KeyPassword); err != nil {
			return nil, err
		}
	}
	cfg.TLSClientConfig.KeyData = key
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			return nil, fmt.Errorf("k8s: CA certificate: %w", err)
		}
		cfg.TLSClientConfig.CAFile = c.CAFile
		cfg.TLSClientConfig.Insecure = false
	}
	return cfg, nil
}

// CertSpec is sysdig's -K argument: a bearer token file, or a client
// certificate, its key (with an optional password) and an optional CA
// certificate, as cert_file:key_file[#password][:ca_cert_file].
type CertSpec struct {
	TokenFile   string
	CertFile    string
	KeyFile     string
	KeyPassword string
	CAFile      string
}

// ParseCertSpec parses a -K argument as sysdig 0.29.3 does: without a colon
// it names a bearer token file.
func ParseCertSpec(s string) (CertSpec, error) {
	var c CertSpec
	cert, rest, ok := strings.Cut(s, ":")
	if !ok {
		c.TokenFile = s
		return c, nil
	}
	if cert == "" {
		return c, fmt.Errorf("k8s: invalid K8S SSL entry: %s", s)
	}
	c.CertFile = cert
	key, ca, _ := strings.Cut(rest, ":")
	if key == "" {
		return c, fmt.Errorf("k8s: invalid K8S SSL entry: %s", s)
	}
	c.KeyFile, c.KeyPassword, _ = strings.Cut(key, "#")
	c.CAFile = ca
	return c, nil
}

// decryptKey decrypts a PEM private key protected by a password (the legacy
// "Proc-Type: 4,ENCRYPTED" form OpenSSL writes with -des3/-aes256).
func decryptKey(data []byte, password string) ([]byte, error) {
	var out []byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		//lint:ignore SA1019 legacy encrypted PEM keys are what -K's password is for
		if x509.IsEncryptedPEMBlock(b) {
			//lint:ignore SA1019 see above
			der, err := x509.DecryptPEMBlock(b, []byte(password))
			if err != nil {
				return nil, fmt.Errorf("k8s: client key: %w", err)
			}
			b = &pem.Block{Type: b.Type, Bytes: der}
		}
		out = append(out, pem.EncodeToMemory(b)...)
	}
	if len(out) == 0 {
		return nil, errors.New("k8s: client key: no PEM data")
	}
	return out, nil
}
