package nodeagent

import (
	"net/http"

	"github.com/drover-mesh/drover/pkg/nodeapi"
)

// route dispatches one request: health needs no token; everything else is
// authenticated first, then matched by path and method.
func (a *Agent) route(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == nodeapi.PathHealth {
		if !nodeapi.AllowMethod(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		nodeapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "node": a.node})
		a.healthAnswered()
		return
	}
	if !nodeapi.Authorized(r, a.tokenHash) {
		a.log.V(1).Info("request refused", "code", nodeapi.CodeUnauthorized, "path", r.URL.Path, "remote", r.RemoteAddr)
		nodeapi.WriteError(w, &nodeapi.Error{Code: nodeapi.CodeUnauthorized, Message: "missing or wrong bearer token"})
		return
	}
	switch r.URL.Path {
	case nodeapi.PathStatus:
		if nodeapi.AllowMethod(w, r, http.MethodGet, http.MethodHead) {
			nodeapi.WriteJSON(w, http.StatusOK, a.Status())
		}
	case nodeapi.PathPeers:
		if nodeapi.AllowMethod(w, r, http.MethodPut) {
			a.servePeers(w, r)
		}
	case nodeapi.PathLeave:
		if nodeapi.AllowMethod(w, r, http.MethodPost) {
			a.serveLeave(w, r)
		}
	default:
		nodeapi.WriteError(w, &nodeapi.Error{Code: nodeapi.CodeNotFound, Message: "no such path: see docs/nodeapi.md for protocol v1"})
	}
}

func (a *Agent) servePeers(w http.ResponseWriter, r *http.Request) {
	b, e := nodeapi.ReadBody(w, r)
	if e == nil {
		var req nodeapi.SetPeersRequest
		if req, e = nodeapi.DecodeSetPeersRequest(b); e == nil {
			a.serveCommand(w, r, Command{Revision: req.Revision, Peers: normalize(req.Peers, a.node)})
			return
		}
	}
	a.log.V(1).Info("request refused", "code", e.Code, "path", r.URL.Path, "reason", e.Message)
	nodeapi.WriteError(w, e)
}

func (a *Agent) serveLeave(w http.ResponseWriter, r *http.Request) {
	b, e := nodeapi.ReadBody(w, r)
	if e == nil {
		var req nodeapi.LeaveRequest
		if req, e = nodeapi.DecodeLeaveRequest(b); e == nil {
			a.serveCommand(w, r, Command{Leave: true, Revision: req.Revision, Peers: []string{}})
			return
		}
	}
	a.log.V(1).Info("request refused", "code", e.Code, "path", r.URL.Path, "reason", e.Message)
	nodeapi.WriteError(w, e)
}

func (a *Agent) serveCommand(w http.ResponseWriter, r *http.Request, c Command) {
	st, e := a.execute(r.Context(), c)
	if e != nil {
		a.log.V(1).Info("request refused", "code", e.Code, "path", r.URL.Path, "reason", e.Message)
		nodeapi.WriteError(w, e)
		return
	}
	nodeapi.WriteJSON(w, http.StatusOK, nodeapi.SetPeersResponse{Status: st})
}
