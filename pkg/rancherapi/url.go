package rancherapi

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// apiURL is a user's Rancher URL, normalised.
type apiURL struct {
	// Root is the v2-beta API root, e.g. "http://h:8080/v2-beta", with no
	// user info, query or trailing slash.
	Root string
	// Project is the project (environment) id, e.g. "1a5"; "" when the URL
	// names none.
	Project string
	// User and Password come from user info in the URL, if any.
	User, Password string
}

// SchemasURL is the URL the client is built from, as the rancher CLI
// does: the project's schema collection when a project is known.
func (u apiURL) SchemasURL() string {
	if u.Project == "" {
		return u.Root + "/schemas"
	}
	return u.ProjectURL() + "/schemas"
}

// ProjectURL is the project-scoped API URL, e.g. ".../v2-beta/projects/1a5".
func (u apiURL) ProjectURL() string {
	return u.Root + "/projects/" + u.Project
}

// parseAPIURL accepts any form of Rancher URL a user gives and returns its
// API root and project:
//
//	http://h:8080                              -> root h:8080/v2-beta, no project
//	http://h:8080/v1 or /v2-beta or /v2-beta/  -> same
//	http://h:8080/v2-beta/schemas              -> same
//	http://h:8080/v2-beta/projects/1a5[/...]   -> project 1a5
//	http://h:8080/v1/projects/1a5/schemas      -> project 1a5
//	http://h:8080/env/1a5/apps/stacks          -> project 1a5 (a UI URL)
//	http://h/rancher/v2-beta/projects/1a5      -> root h/rancher/v2-beta
func parseAPIURL(raw string) (apiURL, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return apiURL{}, fmt.Errorf("rancher URL %s is not a valid URL: %s", shown(raw), parseProblem(raw))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return apiURL{}, fmt.Errorf("rancher URL %s: want http(s)://host[:port][/v2-beta/projects/<id>]", shown(raw))
	}
	out := apiURL{}
	if u.User != nil {
		out.User = u.User.Username()
		out.Password, _ = u.User.Password()
	}
	segs := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	prefix, rest := splitAPIPath(segs)
	if len(rest) >= 2 && (rest[0] == "projects" || rest[0] == "env") {
		out.Project = rest[1]
	}
	base := url.URL{Scheme: u.Scheme, Host: u.Host}
	out.Root = strings.TrimSuffix(base.String()+"/"+strings.Join(append(prefix, "v2-beta"), "/"), "/")
	return out, nil
}

// splitAPIPath finds the API version segment (v1 or v2-beta) or a UI "env"
// segment in the path and returns the segments before it (a reverse-proxy
// prefix) and after it.
func splitAPIPath(segs []string) ([]string, []string) {
	for i, s := range segs {
		switch s {
		case "v1", "v2-beta":
			return segs[:i], segs[i+1:]
		case "env":
			return segs[:i], segs[i:]
		}
	}
	return segs, nil
}

// CheckURL reports whether raw is a Rancher URL parseAPIURL accepts. Its
// error never contains the URL's user info.
func CheckURL(raw string) error {
	_, err := parseAPIURL(raw)
	return err
}

// redactURL returns raw without user info, for messages. Text that does
// not parse is redacted too: everything from the scheme's "://" (or the
// start) to the last "@" is replaced, since a password with an unescaped
// "/", "?", "#" or "@" is exactly what makes a URL unparseable.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err == nil && u.User == nil && u.Opaque == "":
		return raw
	case err == nil && u.User != nil && u.Opaque == "":
		u.User = nil
		return u.String()
	}
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + len("://")
	}
	if at := strings.LastIndex(raw[start:], "@"); at >= 0 {
		return raw[:start] + "REDACTED@" + raw[start+at+1:]
	}
	return raw
}

// shown quotes a redacted URL for a message, at most 200 bytes of it.
func shown(raw string) string {
	const maxShown = 200
	s := redactURL(raw)
	if len(s) > maxShown {
		s = s[:maxShown] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// parseProblem says why raw does not parse, from the redacted text only:
// url.Parse's own message quotes the input, and parts of a mis-split
// password with it.
func parseProblem(raw string) string {
	_, err := url.Parse(redactURL(raw))
	var ue *url.Error
	switch {
	case err == nil:
		return "its user info (before @) is malformed: percent-encode / ? # @ % in a password, or better pass the key in CATTLE_ACCESS_KEY and CATTLE_SECRET_KEY"
	case errors.As(err, &ue):
		return ue.Err.Error()
	default:
		return err.Error()
	}
}

// collectionPath returns the path of a URL without host or query, for
// OnRequest.
func collectionPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Path
}

// wsURL turns the subscribe collection link into the websocket URL.
func wsURL(collection string) (string, error) {
	u, err := url.Parse(collection)
	if err != nil {
		return "", fmt.Errorf("subscribe link %s: %w", shown(collection), errors.Unwrap(err))
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("subscribe link %s: unexpected scheme", shown(collection))
	}
	q := u.Query()
	q.Set("eventNames", "resource.change")
	u.RawQuery = q.Encode()
	return u.String(), nil
}
