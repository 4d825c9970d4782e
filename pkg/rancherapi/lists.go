package rancherapi

import (
	"context"

	client "github.com/rancher/go-rancher/v2"
)

// The typed list calls of go-rancher, each followed through its pages.
// Filters narrow the answer when Cattle honours them; callers check every
// returned object themselves.

func (c *Client) listStacks(ctx context.Context, p *pass, extra map[string]string) ([]client.Stack, error) {
	return listAll(ctx, c, p, c.rc, "listing stacks", schemaStack, c.pageFilters(extra),
		c.rc.Stack.List, (*client.StackCollection).Next,
		func(sc *client.StackCollection) ([]client.Stack, *client.Pagination) { return sc.Data, sc.Pagination })
}

func (c *Client) listServices(ctx context.Context, p *pass, extra map[string]string) ([]client.Service, error) {
	return listAll(ctx, c, p, c.rc, "listing services", schemaService, c.pageFilters(extra),
		c.rc.Service.List, (*client.ServiceCollection).Next,
		func(sc *client.ServiceCollection) ([]client.Service, *client.Pagination) {
			return sc.Data, sc.Pagination
		})
}

func (c *Client) listContainers(ctx context.Context, p *pass, extra map[string]string) ([]client.Container, error) {
	return listAll(ctx, c, p, c.rc, "listing containers", schemaContainer, c.pageFilters(extra),
		c.rc.Container.List, (*client.ContainerCollection).Next,
		func(cc *client.ContainerCollection) ([]client.Container, *client.Pagination) {
			return cc.Data, cc.Pagination
		})
}

// containerPage reads one page of containers, without following "next":
// the caller decides whether the page is conclusive.
func (c *Client) containerPage(ctx context.Context, p *pass, filters map[string]interface{}) (*client.ContainerCollection, error) {
	url := c.rc.GetTypes()[schemaContainer].Links[client.COLLECTION]
	cc, err := call(ctx, c, p, "GET", url, func() (*client.ContainerCollection, error) {
		return c.rc.Container.List(&client.ListOpts{Filters: filters})
	})
	if err != nil {
		return nil, classify("listing containers", c.display(url), err)
	}
	return cc, nil
}

// containerByID reads one container; nil when Rancher does not know it
// (404), which go-rancher's typed ById hides as (nil, nil).
func (c *Client) containerByID(ctx context.Context, p *pass, id string) (*client.Container, error) {
	url := c.rc.GetTypes()[schemaContainer].Links[client.COLLECTION]
	ct, err := call(ctx, c, p, "GET", url, func() (*client.Container, error) {
		out := &client.Container{}
		return out, c.rc.ById(schemaContainer, id, out)
	})
	if client.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, classify("reading container "+id, c.display(url+"/"+id), err)
	}
	return ct, nil
}
