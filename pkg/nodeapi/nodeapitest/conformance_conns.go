package nodeapitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// runConnections checks the per-source cap and the head deadline.
func (c conformer) runConnections(t *testing.T) {
	t.Run("a source over its connection cap cannot block another source", func(t *testing.T) {
		if c.tg.OtherSource == "" {
			t.Skip("Target.OtherSource is not set: no second local address to dial the agent from")
		}
		c.expectSourceCap(t)
		c.expectUnchanged(t)
	})
	t.Run("one header line per second is closed at the head deadline", func(t *testing.T) {
		c.expectHeadDeadline(t)
		c.expectUnchanged(t)
	})
}

// expectSourceCap holds MaxConnsPerSource idle connections from Source
// and checks that one more from Source is not served, that health and an
// authenticated (no-op) push from OtherSource are, and that Source is
// served again once its connections close.
func (c conformer) expectSourceCap(t *testing.T) {
	if tr, ok := c.tg.HTTPClient.Transport.(interface{ CloseIdleConnections() }); ok {
		tr.CloseIdleConnections()
	}
	held := make([]net.Conn, 0, c.tg.MaxConnsPerSource)
	defer func() {
		for _, conn := range held {
			_ = conn.Close()
		}
	}()
	for range c.tg.MaxConnsPerSource {
		conn, err := dialerFrom(c.tg.Source).DialContext(t.Context(), "tcp", c.host)
		if err != nil {
			t.Fatalf("opening connection %d from %s: %v", len(held)+1, c.tg.Source, err)
		}
		held = append(held, conn)
	}
	if c.servedOnNewConn(t, c.tg.Source) {
		t.Errorf("a connection from %s beyond its %d open ones was served, want it closed at once", c.tg.Source, c.tg.MaxConnsPerSource)
	}
	other := clientFrom(c.tg, c.tg.OtherSource)
	start := time.Now()
	if resp, b := c.doWith(t, other, http.MethodGet, nodeapi.PathHealth, "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("health from %s while %s holds %d connections: status %d, body %.200s", c.tg.OtherSource, c.tg.Source, len(held), resp.StatusCode, b)
	}
	noop := peersJSON(c.base.Revision, c.base.Managed)
	if resp, b := c.doWith(t, other, http.MethodPut, nodeapi.PathPeers, "Bearer "+c.tg.Token, noop); resp.StatusCode != http.StatusOK {
		t.Errorf("authenticated push from %s while %s holds %d connections: status %d, body %.200s", c.tg.OtherSource, c.tg.Source, len(held), resp.StatusCode, b)
	}
	t.Logf("health and a push from %s answered in %v while %s held %d connections", c.tg.OtherSource, time.Since(start), c.tg.Source, len(held))
	for _, conn := range held {
		_ = conn.Close()
	}
	held = held[:0]
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for !c.servedOnNewConn(t, c.tg.Source) {
		select {
		case <-ctx.Done():
			t.Fatalf("%s is still refused after closing its connections", c.tg.Source)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// servedOnNewConn sends GET /v1/health on a new connection from source
// and reports whether the agent answered it.
func (c conformer) servedOnNewConn(t *testing.T, source string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), c.tg.HeadTimeout+10*time.Second)
	defer cancel()
	conn, err := dialerFrom(source).DialContext(ctx, "tcp", c.host)
	if err != nil {
		return false // refused at once
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(c.tg.HeadTimeout + 5*time.Second))
	if c.tls {
		// A refused connection fails its handshake; an admitted one answers.
		tc, err := c.tlsClient(ctx, conn)
		if err != nil {
			return false
		}
		conn = tc
	}
	if _, err := io.WriteString(conn, c.head("GET", nodeapi.PathHealth)); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// expectHeadDeadline sends a head one header line per second and checks
// that the agent closes the connection at about its head deadline, without
// serving the request, while it keeps answering others.
func (c conformer) expectHeadDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*c.tg.HeadTimeout+20*time.Second)
	defer cancel()
	conn, err := c.dial(ctx, c.tg.Source)
	if err != nil {
		t.Fatalf("dialling the agent: %v", err)
	}
	defer conn.Close()
	start := time.Now()
	answer := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(conn) // until the agent closes the connection
		answer <- b
	}()
	interval := time.Second
	limit := 3*c.tg.HeadTimeout + 5*time.Second
	if _, err := io.WriteString(conn, "GET "+nodeapi.PathHealth+" HTTP/1.1\r\nHost: "+c.host+"\r\n"); err != nil {
		t.Fatalf("writing the request line: %v", err)
	}
	checkedOthers := false
	for i := 0; ; i++ {
		select {
		case b := <-answer:
			if bytes.HasPrefix(b, []byte("HTTP/1.1 2")) {
				t.Errorf("the slow request was served: %.200q", b)
			}
			t.Logf("the agent closed the slow connection after %v (head deadline %v)", time.Since(start).Round(time.Millisecond), c.tg.HeadTimeout)
			return
		case <-time.After(interval):
		}
		if time.Since(start) > limit {
			t.Fatalf("the agent still holds a connection that sent one header line per second for %v (head deadline %v)", limit, c.tg.HeadTimeout)
		}
		if !checkedOthers {
			c.expectHealth(t)
			checkedOthers = true
		}
		if _, err := fmt.Fprintf(conn, "X-Slow-%d: %d\r\n", i, i); err != nil && !isClosed(err) {
			t.Fatalf("writing a header line: %v", err)
		}
	}
}

func isClosed(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "broken pipe")
}

// runAtomBudget checks, for agents that report atom_budget, that refused
// requests keep atoms_created within the budget and grow it by at most the
// names they carry.
func (c conformer) runAtomBudget(t *testing.T) {
	t.Run("refused names stay within the atom budget", func(t *testing.T) {
		created, budget, ok := c.atoms(t)
		if !ok {
			t.Skip("the agent does not report atom_budget")
		}
		if created > budget {
			t.Fatalf("atoms_created %d is over atom_budget %d", created, budget)
		}
		names := make([]string, nodeapi.MaxPeers)
		for i := range names {
			names[i] = fmt.Sprintf("atom%d_%d@10.253.%d.%d", time.Now().UnixNano()%1e9, i, i/250, i%250+1)
		}
		resp, b := c.do(t, http.MethodPut, nodeapi.PathPeers, "Bearer "+c.tg.Token, peersJSON(c.base.Revision-1, names))
		if resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("a stale push of %d new names: status %d, want 409 (or 503 atom_budget_exhausted); body %.200s", len(names), resp.StatusCode, b)
		}
		after, budget2, _ := c.atoms(t)
		if after > budget2 || after-created > uint64(len(names)) {
			t.Errorf("atoms_created %d -> %d (budget %d) after a refused push of %d names", created, after, budget2, len(names))
		}
		c.expectUnchanged(t)
	})
}

// atoms reads atoms_created and atom_budget from the agent's status; ok
// is false when the agent does not report a budget.
func (c conformer) atoms(t *testing.T) (uint64, uint64, bool) {
	t.Helper()
	resp, b := c.do(t, http.MethodGet, nodeapi.PathStatus, "Bearer "+c.tg.Token, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: %d %.200s", resp.StatusCode, b)
	}
	var st struct {
		Created *uint64 `json:"atoms_created"`
		Budget  *uint64 `json:"atom_budget"`
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Budget == nil {
		return 0, 0, false
	}
	if st.Created == nil {
		t.Fatalf("the status reports atom_budget but not atoms_created: %.200s", b)
	}
	return *st.Created, *st.Budget, true
}
