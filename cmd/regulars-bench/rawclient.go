package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// rawSender is the lean client: HTTP/1.1 on one kept-alive connection, requests serialized
// once before the run, answers read by their Content-Length. On a small virtual machine
// net/http's client costs more CPU per request than the bare server it measures (it spends
// about as much in the kernel and more in its own bookkeeping), so with the load generator on
// one core it can become the limit; -client raw keeps it out of the way. It understands only
// what the app and the bare server send: a status line, headers, a Content-Length body.
type rawSender struct {
	tgt  target
	reqs [][]byte
	conn net.Conn
	r    *bufio.Reader
}

// rawRequests serializes every request of the target.
func rawRequests(tgt target) [][]byte {
	u, err := url.Parse(tgt.url)
	if err != nil {
		return nil
	}
	reqs := make([][]byte, len(tgt.bodies))
	for i, body := range tgt.bodies {
		var b bytes.Buffer
		fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\n%s: %d\r\nContent-Length: %d\r\n\r\n",
			u.RequestURI(), u.Host, tgt.token, answerHeader, tgt.answers+i, len(body))
		b.Write(body)
		reqs[i] = b.Bytes()
	}
	return reqs
}

func (s *rawSender) close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

func (s *rawSender) send(ctx context.Context, i int, buf *bytes.Buffer) (int, error) {
	if s.reqs == nil {
		return 0, errors.New("raw client: bad target URL")
	}
	if s.conn == nil {
		u, _ := url.Parse(s.tgt.url)
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", u.Host)
		if err != nil {
			return 0, err
		}
		s.conn, s.r = conn, bufio.NewReaderSize(conn, 64<<10)
	}
	status, keep, err := s.roundTrip(s.reqs[i], buf)
	if err != nil || !keep {
		s.close()
	}
	return status, err
}

// roundTrip writes one request and reads its answer into buf.
func (s *rawSender) roundTrip(req []byte, buf *bytes.Buffer) (status int, keep bool, err error) {
	_ = s.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := s.conn.Write(req); err != nil {
		return 0, false, err
	}
	line, err := s.r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("raw client: bad status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("raw client: bad status line %q", line)
	}
	length, keep := -1, true
	for {
		line, err := s.r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, false, fmt.Errorf("raw client: bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, fmt.Errorf("raw client: Transfer-Encoding %q is not supported", value)
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keep = false
		}
	}
	if length < 0 {
		return 0, false, errors.New("raw client: an answer without Content-Length")
	}
	buf.Reset()
	if _, err := io.CopyN(buf, s.r, int64(length)); err != nil {
		return 0, false, err
	}
	return status, keep, nil
}
