// Command dnsd is the DNS server of syscope's DNS lab (test/lab/dns-lab.sh). It
// plays two parts of seed 000's scenario:
//
//	dnsd -listen 10.77.0.1:53 -cluster -upstream 127.0.0.1:5353
//	    a cluster DNS: names under cluster.local that it knows get an answer,
//	    other cluster.local names NXDOMAIN, everything else is forwarded upstream;
//	dnsd -listen 127.0.0.1:5353 -ignore localdomain
//	    an upstream resolver that never answers queries for *.localdomain (so the
//	    client waits for its timeout) and answers the rest from -hosts.
//
// It only handles what the lab needs: one question per query, A records, UDP.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:53", "UDP address to serve")
	cluster := flag.Bool("cluster", false, "act as the cluster DNS for cluster.local")
	upstream := flag.String("upstream", "", "where to forward names outside cluster.local")
	ignore := flag.String("ignore", "", "never answer names under this domain")
	hosts := flag.String("hosts", "api.example.org=10.77.1.80,web.ns.svc.cluster.local=10.77.2.10", "name=ipv4 answers, comma-separated")
	flag.Parse()

	answers := map[string]net.IP{}
	for _, h := range strings.Split(*hosts, ",") {
		if name, ip, ok := strings.Cut(h, "="); ok {
			answers[strings.ToLower(name)] = net.ParseIP(ip).To4()
		}
	}
	pc, err := net.ListenPacket("udp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "dnsd: serving on", *listen)
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			log.Fatal(err)
		}
		q := append([]byte(nil), buf[:n]...)
		name, qtype, end, err := question(q)
		if err != nil {
			continue
		}
		lname := strings.ToLower(name)
		switch {
		case *ignore != "" && (lname == *ignore || strings.HasSuffix(lname, "."+*ignore)):
			continue // never answered: the client times out
		case *cluster && !strings.HasSuffix(lname, "cluster.local") && *upstream != "":
			go forward(pc, from, q, *upstream)
			continue
		}
		ip, ok := answers[lname]
		pc.WriteTo(reply(q, end, qtype, ip, ok), from)
	}
}

// question parses the query's first question: its name, type, and where it ends.
func question(q []byte) (string, uint16, int, error) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return "", 0, 0, errors.New("not a single-question query")
	}
	var labels []string
	p := 12
	for {
		if p >= len(q) {
			return "", 0, 0, errors.New("truncated name")
		}
		l := int(q[p])
		p++
		if l == 0 {
			break
		}
		if l > 63 || p+l > len(q) {
			return "", 0, 0, errors.New("bad label")
		}
		labels = append(labels, string(q[p:p+l]))
		p += l
	}
	if p+4 > len(q) {
		return "", 0, 0, errors.New("truncated question")
	}
	return strings.Join(labels, "."), binary.BigEndian.Uint16(q[p:]), p + 4, nil
}

// reply builds the answer to query q: one A record when known and asked for,
// NOERROR without records for other types of a known name, NXDOMAIN otherwise.
func reply(q []byte, end int, qtype uint16, ip net.IP, known bool) []byte {
	r := append([]byte(nil), q[:end]...)
	r[2] = 0x80 | q[2]&0x01 // QR, keep RD
	r[3] = 0x80             // RA
	binary.BigEndian.PutUint16(r[8:], 0)
	binary.BigEndian.PutUint16(r[10:], 0)
	if !known {
		r[3] |= 3 // NXDOMAIN
		binary.BigEndian.PutUint16(r[6:], 0)
		return r
	}
	if qtype != 1 || ip == nil {
		binary.BigEndian.PutUint16(r[6:], 0)
		return r
	}
	binary.BigEndian.PutUint16(r[6:], 1)
	r = append(r, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4)
	return append(r, ip...)
}

// forward relays q to the upstream and its answer back, if one comes within 10s.
func forward(pc net.PacketConn, from net.Addr, q []byte, upstream string) {
	c, err := net.Dial("udp", upstream)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(q); err != nil {
		return
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return
	}
	pc.WriteTo(buf[:n], from)
}
