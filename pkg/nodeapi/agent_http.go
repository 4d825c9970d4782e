package nodeapi

import (
	"net/http"
)

// route dispatches one request: health needs no token; everything else is
// authenticated first, then matched by path and method.
func (a *Agent) route(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PathHealth {
		if !allowMethod(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "node": a.node})
		return
	}
	if !authorized(r, a.tokenHash) {
		a.log.V(1).Info("request refused", "code", CodeUnauthorized, "path", r.URL.Path, "remote", r.RemoteAddr)
		writeError(w, &Error{Code: CodeUnauthorized, Message: "missing or wrong bearer token"})
		return
	}
	switch r.URL.Path {
	case PathStatus:
		if allowMethod(w, r, http.MethodGet, http.MethodHead) {
			writeJSON(w, http.StatusOK, a.Status())
		}
	case PathPeers:
		if allowMethod(w, r, http.MethodPut) {
			a.servePeers(w, r)
		}
	case PathLeave:
		if allowMethod(w, r, http.MethodPost) {
			a.serveLeave(w, r)
		}
	default:
		writeError(w, &Error{Code: CodeNotFound, Message: "no such path: see docs/nodeapi.md for protocol v1"})
	}
}

func (a *Agent) servePeers(w http.ResponseWriter, r *http.Request) {
	b, e := readBody(w, r)
	if e == nil {
		var req SetPeersRequest
		if req, e = DecodeSetPeersRequest(b); e == nil {
			a.serveCommand(w, r, command{revision: req.Revision, peers: normalize(req.Peers, a.node)})
			return
		}
	}
	a.log.V(1).Info("request refused", "code", e.Code, "path", r.URL.Path, "reason", e.Message)
	writeError(w, e)
}

func (a *Agent) serveLeave(w http.ResponseWriter, r *http.Request) {
	b, e := readBody(w, r)
	if e == nil {
		var req LeaveRequest
		if req, e = DecodeLeaveRequest(b); e == nil {
			a.serveCommand(w, r, command{leave: true, revision: req.Revision, peers: []string{}})
			return
		}
	}
	a.log.V(1).Info("request refused", "code", e.Code, "path", r.URL.Path, "reason", e.Message)
	writeError(w, e)
}

func (a *Agent) serveCommand(w http.ResponseWriter, r *http.Request, c command) {
	st, e := a.execute(r.Context(), c)
	if e != nil {
		a.log.V(1).Info("request refused", "code", e.Code, "path", r.URL.Path, "reason", e.Message)
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, SetPeersResponse{Status: st})
}
