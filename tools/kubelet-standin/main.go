// Command kubelet-standin answers the kubelet's port-forward endpoint with the kubelet's own
// streaming code, so a real kube-apiserver can proxy `pods/portforward` in tests without a node.
//
// kube-apiserver proxies GET/POST /api/v1/namespaces/<ns>/pods/<pod>/portforward to
// https://<node InternalIP>:<node status.daemonEndpoints.kubeletEndpoint.Port>/portForward/<ns>/<pod>.
// A real kubelet asks the container runtime (containerd, CRI-O) for a streaming URL and proxies to
// it; the runtime serves it with k8s.io/cri-streaming's portforward.ServePortForward and a
// PortForwarder that dials the port inside the pod's network namespace. This stand-in calls the same
// ServePortForward directly, with a PortForwarder that dials a port on this machine instead, copying
// like containerd's does (the forward ends when either direction ends).
//
// Both wire protocols the kubelet side speaks are served: WebSocket v4.channel.k8s.io (one
// connection per WebSocket) and SPDY portforward.k8s.io (what kube-apiserver sends after translating
// kubectl's SPDY-over-WebSocket tunnel, since this node does not declare ExtendWebSocketsToKubelet).
//
// It serves HTTPS with a self-signed certificate made at start-up: kube-apiserver does not verify
// kubelet serving certificates unless --kubelet-certificate-authority is set.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/portforward"
)

// targets maps a pod port to the address dialled for it; unmapped ports dial 127.0.0.1:<port>.
type targets map[int32]string

func (t targets) String() string { return fmt.Sprint(map[int32]string(t)) }

func (t targets) Set(v string) error {
	port, addr, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want <pod port>=<host:port>, got %q", v)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return fmt.Errorf("bad pod port in %q", v)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("bad address in %q: %v", v, err)
	}
	t[int32(p)] = addr
	return nil
}

type forwarder struct{ targets targets }

// PortForward mirrors containerd's sandbox port-forward: dial, copy both ways, and finish when the
// first direction finishes (closing the stream tells the client no more data comes).
func (f forwarder) PortForward(ctx context.Context, pod string, uid string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	addr, ok := f.targets[port]
	if !ok {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("failed to connect to localhost:%d inside namespace of pod %s: %v", port, pod, err)
	}
	defer conn.Close()
	log.Printf("forwarding pod %s port %d to %s", pod, port, addr)
	errCh := make(chan error, 2)
	go func() {
		_, err := io.Copy(stream, conn)
		stream.Close()
		errCh <- err
	}()
	go func() {
		_, err := io.Copy(conn, stream)
		errCh <- err
	}()
	select {
	case err = <-errCh:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("error forwarding port %d to pod %s: %v", port, pod, err)
	}
	return nil
}

func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "kubelet-standin"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(48 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:10250", "address to serve HTTPS on")
	idle := flag.Duration("streaming-connection-idle-timeout", 4*time.Hour, "the kubelet's idle timeout for streaming connections")
	creation := flag.Duration("stream-creation-timeout", 30*time.Second, "how long an SPDY client may take to open a port's stream pair")
	t := targets{}
	flag.Var(t, "target", "<pod port>=<host:port> to dial for that pod port (repeatable); other ports dial 127.0.0.1:<port>")
	flag.Parse()
	log.SetPrefix("kubelet-standin ")

	cert, err := selfSignedCert()
	if err != nil {
		log.Fatalf("certificate: %v", err)
	}
	fwd := forwarder{targets: t}
	mux := http.NewServeMux()
	// The kubelet's route (pkg/kubelet/server/server.go); the UID form is what kube-apiserver never sends but kubectl-through-kubelet may.
	serve := func(w http.ResponseWriter, r *http.Request) {
		opts, err := portforward.NewV4Options(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		log.Printf("%s %s (upgrade %q, protocols %q)", r.Method, r.URL.RequestURI(), r.Header.Get("Upgrade"), r.Header.Values("Sec-Websocket-Protocol"))
		portforward.ServePortForward(w, r, fwd, r.PathValue("pod"), r.PathValue("uid"), opts, *idle, *creation, portforward.SupportedProtocols)
	}
	mux.HandleFunc("/portForward/{namespace}/{pod}", serve)
	mux.HandleFunc("/portForward/{namespace}/{pod}/{uid}", serve)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// Upgrades (SPDY, WebSocket) need HTTP/1.1; an empty map turns HTTP/2 off.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		TLSConfig:    &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
	}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = srv.Close()
	}()
	log.Printf("serving https://%s (targets %v)", ln.Addr(), t)
	if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("serve: %v", err)
	}
}
