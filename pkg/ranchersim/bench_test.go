package ranchersim_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	client "github.com/rancher/go-rancher/v2"

	"github.com/drover-mesh/drover/pkg/rancherapi/ranchertest"
	"github.com/drover-mesh/drover/pkg/ranchersim"
)

// BenchmarkList2000 lists 2,000 containers of 100 services in one page
// with the go-rancher client.
func BenchmarkList2000(b *testing.B) {
	s := ranchertest.NewServer(b, ranchersim.Options{StepDelay: time.Millisecond})
	if _, err := s.CreateStack("big"); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if _, err := s.CreateService("big", ranchersim.ServiceSpec{Name: fmt.Sprintf("svc%d", i), Scale: 20,
			StartOnCreate: true}); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := s.WaitSettled(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("2000 containers running after %v", time.Since(start))
	c, err := client.NewRancherClient(&client.ClientOpts{Url: s.SchemasURL(), AccessKey: s.AccessKey(),
		SecretKey: s.SecretKey(), Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		coll, err := c.Container.List(&client.ListOpts{Filters: map[string]interface{}{"limit": 3000}})
		if err != nil || len(coll.Data) != 2000 {
			b.Fatalf("%v %v", len(coll.Data), err)
		}
	}
}
