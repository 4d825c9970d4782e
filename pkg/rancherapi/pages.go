package rancherapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/internal/jsonskim"
)

// List pages are read here rather than through go-rancher's List and
// GetLink, which read a page whole and decode it with json.Unmarshal: a
// page of a thousand Cattle containers is megabytes of JSON, of which
// drover keeps a dozen fields per row, and at 10,000 containers that
// decoding was most of a resync's CPU and a peak of several megabytes
// per page. A page is streamed instead (internal/jsonskim): each row of
// "data" is decoded into its slim type as json.Unmarshal would (unknown
// fields ignored, the same matching of field names), while the fields
// the slim type lacks are checked and skipped without being decoded, and
// only one row is held at a time. The request is the one go-rancher sends
// (the collection link of the schemas go-rancher read, the same filters,
// basic auth, Options.Timeout, http.DefaultTransport), so what the
// controller installs there (--rancher-ca-file) applies alike.

// Bounds of a page's answer.
const (
	// maxPageBytes bounds one page: a thousand real Cattle containers
	// render 4-8 MB; a bigger answer is refused rather than read on.
	maxPageBytes = 64 << 20
	// maxErrorBody bounds what is read of an error answer's body.
	maxErrorBody = 64 << 10
)

// collectionURL returns the collection link of schema in rc's schemas,
// checking, as go-rancher's List does, that the schema is listable.
func collectionURL(rc *client.RancherClient, schema string) (string, error) {
	s, ok := rc.GetTypes()[schema]
	switch {
	case !ok:
		return "", fmt.Errorf("the schemas have no %q type", schema)
	case !slices.Contains(s.CollectionMethods, http.MethodGet):
		return "", fmt.Errorf("the schemas say %q is not listable", schema)
	case s.Links[client.COLLECTION] == "":
		return "", fmt.Errorf("the schemas give no collection link for %q", schema)
	}
	return s.Links[client.COLLECTION], nil
}

// withFilters adds filters to a URL's query, as go-rancher does.
func withFilters(raw string, filters map[string]string) (string, error) {
	if len(filters) == 0 {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for k, v := range filters {
		q.Add(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// readPage GETs one page at rawURL and hands each row to each, in order;
// it returns the page's next link and whether it says it is partial. On
// an error, rows already handed over belong to an answer that failed.
func readPage[T any](ctx context.Context, c *Client, rawURL string, each func(T)) (string, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", false, err
	}
	req.SetBasicAuth(c.access, c.secret)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", false, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return "", false, &client.ApiError{StatusCode: resp.StatusCode, Status: resp.Status, Url: rawURL, Body: string(body),
			Msg: fmt.Sprintf("rancher answered %s", resp.Status)}
	}
	return decodePage(resp.Body, maxPageBytes, each)
}

// decodePage streams a collection page: {"data": [rows], "pagination":
// {"next", "partial"}, ...}. The answer must be one object with one data
// member, an array (or null, which Go servers render for no rows); its
// other members are checked and skipped. An answer without data is no
// collection (go-rancher's json.Unmarshal took it for an empty one). It
// reads at most limit bytes.
func decodePage[T any](body io.Reader, limit int64, each func(T)) (string, bool, error) {
	d := jsonskim.NewDecoder(body, limit)
	var pg page[T]
	rows, data := 0, false
	err := d.Object(
		jsonskim.Field{Name: "data", Value: func() error {
			if data {
				return errors.New("the page has two data members")
			}
			data = true
			if null, err := d.Null(); null || err != nil {
				return err // null: no rows, as encoding/json reads it
			}
			return d.Array(func() error {
				var row T
				if err := d.Decode(&row); err != nil {
					return fmt.Errorf("row %d: %w", rows, err)
				}
				rows++
				each(row)
				return nil
			})
		}},
		jsonskim.Field{Name: "pagination", Value: func() error { return d.Decode(&pg.Pagination) }},
	)
	if err == nil {
		err = d.End()
	}
	if err == nil && !data {
		err = errors.New("the answer has no data array, so it is not a collection")
	}
	if le, ok := errors.AsType[*jsonskim.LimitError](err); ok {
		return "", false, fmt.Errorf("the page is over the limit of %d MiB: %w", le.Limit>>20, err)
	}
	if err != nil {
		return "", false, err
	}
	next, partial := pg.next()
	return next, partial, nil
}
