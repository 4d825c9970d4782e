package rancherapi

import (
	"context"
	"fmt"
	"strconv"

	client "github.com/rancher/go-rancher/v2"
)

// Lists are read page by page with readPage (pages.go), which streams
// each page into the slim types; the first page is the collection link
// of go-rancher's schemas with the filters, the following ones the
// page's "next" link. By-id reads go through go-rancher's ById. Filters
// narrow an answer when Cattle honours them; callers check every returned
// object themselves.

// list reads a collection through every page into a slice. A page that
// says it is partial without a next link, or more than maxPages pages, is
// a partial answer.
func list[T any](ctx context.Context, c *Client, p *pass, what, schema string, filters map[string]string) ([]T, error) {
	var out []T
	err := listOn(ctx, c, c.rc, p, what, schema, filters, func(row T) { out = append(out, row) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// firstPage reads the first page of a collection alone, and its next link.
func firstPage[T any](ctx context.Context, c *Client, p *pass, what, schema string, filters map[string]string) ([]T, string, error) {
	var rows []T
	coll, url, err := listURL(c, c.rc, what, schema, filters)
	if err != nil {
		return nil, "", err
	}
	end, err := call(ctx, c, p, "GET", url, func() (pageEnd, error) {
		next, partial, err := readPage(ctx, c, url, func(row T) { rows = append(rows, row) })
		return pageEnd{next, partial}, err
	})
	if err != nil {
		return nil, "", classify(what, c.display(coll), err)
	}
	return rows, end.next, nil
}

// listURL returns the collection link of schema and the URL of the
// first page with filters.
func listURL(c *Client, rc *client.RancherClient, what, schema string, filters map[string]string) (string, string, error) {
	coll, err := collectionURL(rc, schema)
	if err != nil {
		return "", "", terminal(fmt.Errorf("%s: %w: check that CATTLE_URL (or RANCHER_URL) points at a Rancher 1.6 environment", what, err))
	}
	url, err := withFilters(coll, filters)
	if err != nil {
		return "", "", terminal(fmt.Errorf("%s: collection link %s: %w", what, c.display(coll), err))
	}
	return coll, url, nil
}

// listOn reads a collection of rc's schemas (the project's, or the API
// root's to find the project) through every page, handing each row to
// each; on an error, the rows handed over are no answer.
func listOn[T any](ctx context.Context, c *Client, rc *client.RancherClient, p *pass, what, schema string, filters map[string]string, each func(T)) error {
	coll, url, err := listURL(c, rc, what, schema, filters)
	if err != nil {
		return err
	}
	for n := 1; ; n++ {
		end, err := call(ctx, c, p, "GET", url, func() (pageEnd, error) {
			next, partial, err := readPage(ctx, c, url, each)
			return pageEnd{next, partial}, err
		})
		switch {
		case err != nil && n > 1:
			return classify(fmt.Sprintf("%s (page %d)", what, n), c.display(coll), err)
		case err != nil:
			return classify(what, c.display(coll), err)
		case end.next == "" && end.partial:
			return partialf("%s: rancher at %s marked page %d partial but gave no next link", what, c.display(coll), n)
		case end.next == "":
			return nil
		case n >= maxPages:
			return partialf("%s: rancher at %s still had more after %d pages", what, c.display(coll), n)
		}
		url = end.next
	}
}

// pageEnd is where a page says the list goes on.
type pageEnd struct {
	next    string
	partial bool
}

// listFilters returns the filters of a full list plus the page size and
// the removed_null filter (lists leave removed objects out anyway; the
// CLI adds it too).
func (c *Client) listFilters(extra map[string]string) map[string]string {
	f := map[string]string{"limit": strconv.Itoa(c.opts.PageSize), "removed_null": "1"}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func (c *Client) listStacks(ctx context.Context, p *pass, extra map[string]string) ([]stack, error) {
	return list[stack](ctx, c, p, "listing stacks", schemaStack, c.listFilters(extra))
}

func (c *Client) listServices(ctx context.Context, p *pass, extra map[string]string) ([]service, error) {
	return list[service](ctx, c, p, "listing services", schemaService, c.listFilters(extra))
}

func (c *Client) listContainers(ctx context.Context, p *pass, extra map[string]string) ([]container, error) {
	return list[container](ctx, c, p, "listing containers", schemaContainer, c.listFilters(extra))
}

// byID reads one object of a schema; found is false when Rancher does not
// know it (404).
func byID[T any](ctx context.Context, c *Client, p *pass, schema, id string) (T, bool, error) {
	var zero T
	url := c.rc.GetTypes()[schema].Links[client.COLLECTION]
	out, err := call(ctx, c, p, "GET", url, func() (*T, error) {
		out := new(T)
		return out, c.rc.ById(schema, id, out)
	})
	if client.IsNotFound(err) {
		return zero, false, nil
	}
	if err != nil {
		return zero, false, classify("reading "+schema+" "+quote(id), c.display(url), err)
	}
	return *out, true, nil
}
