package ranchersim

import (
	"errors"
	"fmt"
	"net/netip"
)

// ipPool hands out container IPs from a prefix, skipping .0, .1 and .255 of
// every /24 and every IP in use. It moves forward through the range, so a
// freed IP is reused only after the range wrapped around, as an IPAM with a
// cursor does. Not safe for concurrent use (the Sim's lock guards it).
type ipPool struct {
	prefix netip.Prefix
	next   netip.Addr
	inUse  map[netip.Addr]bool
}

func newIPPool(cidr string) (*ipPool, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("parsing ip range: %w", err)
	}
	if !p.Addr().Is4() || p.Bits() > 24 {
		return nil, fmt.Errorf("ip range %s: need an IPv4 prefix of /24 or larger", cidr)
	}
	p = p.Masked()
	return &ipPool{prefix: p, next: p.Addr(), inUse: map[netip.Addr]bool{}}, nil
}

// usable reports whether an address may be handed out at all.
func usable(a netip.Addr) bool {
	last := a.As4()[3]
	return last != 0 && last != 1 && last != 255
}

// allocate returns a free IP.
func (p *ipPool) allocate() (string, error) {
	a := p.next
	for range 1 << (32 - p.prefix.Bits()) {
		cand := a
		a = a.Next()
		if !a.IsValid() || !p.prefix.Contains(a) {
			a = p.prefix.Addr()
		}
		if usable(cand) && !p.inUse[cand] {
			p.inUse[cand] = true
			p.next = a
			return cand.String(), nil
		}
	}
	return "", errors.New("ip range exhausted")
}

// release frees an IP.
func (p *ipPool) release(ip string) {
	if a, err := netip.ParseAddr(ip); err == nil {
		delete(p.inUse, a)
	}
}

// take marks a given IP as in use again (a restored container's); it
// fails when the IP is taken or outside the range.
func (p *ipPool) take(ip string) error {
	a, err := netip.ParseAddr(ip)
	if err != nil || !p.prefix.Contains(a) || !usable(a) {
		return fmt.Errorf("ip %s is not in %s", ip, p.prefix)
	}
	if p.inUse[a] {
		return fmt.Errorf("ip %s is in use", ip)
	}
	p.inUse[a] = true
	return nil
}
