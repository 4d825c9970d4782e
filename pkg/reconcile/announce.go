package reconcile

import (
	"context"
	"slices"
	"time"

	"github.com/drover-mesh/drover/pkg/mesh"
)

// Announcement events, as nodes send them.
const (
	EventUp       = "up"
	EventStopping = "stopping"
)

// followUp is the latest announcement of one IP. kick wakes the running
// follow-up when a new announcement arrives, so it reads at once.
type followUp struct {
	event string
	at    time.Time
	kick  chan struct{}
}

// Announce takes a node's announcement that it is up or stopping, by its
// primary IP. It never changes membership by itself: the controller reads
// that container from Rancher at once (Lookup) until Rancher reports the
// state that decides (a member after "up", a non-member after "stopping")
// or AnnounceWindow has passed since the latest announcement, then runs a
// pass. Reads are every AnnounceFastPoll during AnnounceFastFor after each
// announcement (the state usually flips right then: agents re-announce
// "up" after answering a health probe), then every AnnouncePoll. The
// node's cached status is dropped, so the pass reads it again. Announce
// does not block; it is safe for concurrent use.
func (c *Controller) Announce(event, ip string) {
	c.mu.Lock()
	c.announced[ip] = true
	f, busy := c.following[ip]
	if !busy {
		f.kick = make(chan struct{}, 1)
	}
	f.event, f.at = event, time.Now()
	c.following[ip] = f
	c.mu.Unlock()
	if busy {
		select { // the running follow-up reads the latest event at once
		case f.kick <- struct{}{}:
		default:
		}
		return
	}
	if c.opts.Lookup == nil {
		c.doneFollowing(ip)
		return
	}
	select {
	case c.announceCh <- ip:
	default: // too many at once: a pass will read everything anyway
		c.doneFollowing(ip)
	}
}

// doneFollowing ends a follow-up and schedules the pass.
func (c *Controller) doneFollowing(ip string) {
	c.mu.Lock()
	delete(c.following, ip)
	c.mu.Unlock()
	c.ScheduleRunOnce(c.opts.Now())
}

// followAnnouncements serves announcements until ctx is done.
func (c *Controller) followAnnouncements(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ip := <-c.announceCh:
			c.follow(ctx, ip)
			c.doneFollowing(ip)
		}
	}
}

// follow reads the announced container until Rancher's state decides the
// announcement's outcome, the window after the latest announcement ends,
// or ctx is done.
func (c *Controller) follow(ctx context.Context, ip string) {
	for {
		c.mu.Lock()
		f := c.following[ip]
		c.mu.Unlock()
		rctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
		m, ok, err := c.opts.Lookup.ContainerByIP(rctx, ip)
		cancel()
		if err == nil && c.decided(f.event, m, ok) {
			return
		}
		if err != nil {
			c.log.V(1).Info("reading announced container", "ip", ip, "error", err.Error())
		}
		since := time.Since(f.at)
		if since > c.opts.AnnounceWindow {
			return
		}
		wait := c.opts.AnnouncePoll
		if since < c.opts.AnnounceFastFor {
			wait = c.opts.AnnounceFastPoll
		}
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		case <-time.After(wait):
		}
	}
}

// decided reports whether Rancher's view of the container settles the
// announcement.
func (c *Controller) decided(event string, m mesh.Member, found bool) bool {
	member := false
	for _, cc := range c.opts.Clusters {
		if found && slices.Contains(cc.Services, m.Service) && IsMember(cc.Membership, m) {
			member = true
		}
	}
	switch event {
	case EventUp:
		return member
	case EventStopping:
		return !member
	}
	return true
}
