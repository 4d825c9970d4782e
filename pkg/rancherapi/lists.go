package rancherapi

import (
	"context"
	"strconv"

	client "github.com/rancher/go-rancher/v2"
)

// Requests go through go-rancher's untyped calls, decoding straight into
// the slim types: List(schema, opts, &page) for a collection's first page,
// GetLink on the page's "next" URL for the following ones, ById for one
// object. Filters narrow an answer when Cattle honours them; callers check
// every returned object themselves.

// list reads a collection through every page. A page that says it is
// partial without a next link, or more than maxPages pages, is a partial
// answer.
func list[T any](ctx context.Context, c *Client, p *pass, what, schema string, filters map[string]interface{}) ([]T, error) {
	return listOn[T](ctx, c, c.rc, p, what, schema, filters)
}

// listOn is list through another go-rancher client (the API root's, to
// find the project).
func listOn[T any](ctx context.Context, c *Client, rc *client.RancherClient, p *pass, what, schema string, filters map[string]interface{}) ([]T, error) {
	url := rc.GetTypes()[schema].Links[client.COLLECTION]
	cur, err := call(ctx, c, p, "GET", url, func() (*page[T], error) {
		out := &page[T]{}
		return out, rc.List(schema, &client.ListOpts{Filters: filters}, out)
	})
	var out []T
	for n := 1; ; n++ {
		if err != nil {
			return nil, classify(what, c.display(url), err)
		}
		out = append(out, cur.Data...)
		next, partial := cur.next()
		if next == "" {
			if partial {
				return nil, partialf("%s: rancher at %s marked page %d partial but gave no next link", what, c.display(url), n)
			}
			return out, nil
		}
		if n >= maxPages {
			return nil, partialf("%s: rancher at %s still had more after %d pages", what, c.display(url), n)
		}
		link := client.Resource{Links: map[string]string{"next": next}}
		cur, err = call(ctx, c, p, "GET", next, func() (*page[T], error) {
			out := &page[T]{}
			return out, rc.GetLink(link, "next", out)
		})
	}
}

// listFilters returns the filters of a full list plus the page size and
// the removed_null filter (lists leave removed objects out anyway; the
// CLI adds it too).
func (c *Client) listFilters(extra map[string]string) map[string]interface{} {
	f := map[string]interface{}{"limit": strconv.Itoa(c.opts.PageSize), "removed_null": "1"}
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
