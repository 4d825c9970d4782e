package config

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// LabelledService is a Rancher service whose launch config carries
// io.drover.cluster, with every label of that launch config, as the
// caller read it from Rancher.
type LabelledService struct {
	Stack, Service string
	// ID is Rancher's service id ("1s12"): the services of a label-defined
	// cluster are compared with the oldest (lowest id) one.
	ID     string
	Labels map[string]string
}

// ResolvedCluster is one cluster to manage: a cluster of the file, with
// the services that joined it through their labels, or a cluster that
// labels alone define.
type ResolvedCluster struct {
	// Cluster is the cluster, defaulted and valid. A label-defined one is
	// named LabelClusterName(stack, name) and inherits spec.defaults.
	Cluster Cluster
	// FromLabels is true for a cluster that no cluster of the file defines.
	FromLabels bool
	// Labelled are the services that joined through their label (and are
	// not listed in the file), sorted.
	Labelled []string
	// Problems are what is wrong with its services' labels, each naming the
	// service and the label. While there are any, the labels do not change
	// the cluster: it keeps the services and settings it last had (Kept).
	Problems []string
	// Kept is true when Problems held the cluster as it last resolved.
	Kept bool
}

// Resolution is the set of clusters to manage.
type Resolution struct {
	// Clusters are the file's clusters in file order, then label-defined
	// ones sorted by name. Names are unique.
	Clusters []ResolvedCluster
	// Problems are label problems that concern no cluster of Clusters: a
	// label naming no valid cluster, a label-defined cluster without a
	// token, one that never resolved without problems.
	Problems []string
}

// Cluster returns the resolved cluster of the given name.
func (r Resolution) Cluster(name string) (ResolvedCluster, bool) {
	for _, c := range r.Clusters {
		if c.Cluster.Name == name {
			return c, true
		}
	}
	return ResolvedCluster{}, false
}

// maxProblems bounds the problems one resolution reports: a stack of a
// thousand mislabelled services must not make a status of megabytes.
const maxProblems = 100

// LabelClusterName is the name of the cluster that services of stack
// labelled io.drover.cluster=name define: "stack/name". A file's cluster
// names have no '/', so the two never collide, and two stacks may use one
// name for two meshes.
func LabelClusterName(stack, name string) string { return stack + "/" + name }

// labelGroup is the services of one stack that name one cluster.
type labelGroup struct {
	stack, name string
	members     []labelMember
}

type labelMember struct {
	svc      LabelledService
	settings labelSettings
	errs     []error
}

func (m labelMember) where() string { return m.svc.Stack + "/" + m.svc.Service }

// Resolve joins the file's clusters (f, defaulted and valid) with the
// clusters that service labels define, and returns the clusters to
// manage. It is pure. prev is the last resolution: a cluster whose labels
// have problems keeps what prev gave it.
//
//   - A labelled service joins the file's cluster of its stack and name
//     when its labels agree with that cluster's settings (a label it does
//     not set agrees); otherwise it does not join (unless prev had it
//     joined), and the disagreement is a problem of that cluster.
//   - A service the file lists in another cluster stays there: its label
//     is a problem of the file's cluster.
//   - The other services of one stack naming one cluster form a
//     label-defined cluster, with spec.defaults under their labels. Each
//     must resolve to the same settings as the oldest; if one does not, or
//     has an invalid label, the cluster stays as prev had it (with the
//     services that still carry the label), or is not managed yet.
//   - Without spec.defaults.admin.token, label-defined clusters are not
//     managed (labels never carry secrets).
func Resolve(f *File, services []LabelledService, prev Resolution) Resolution {
	var out Resolution
	groups, problems := groupLabels(services)
	out.Problems = append(out.Problems, problems...)
	listed := listedServices(f)
	used := map[[2]string]bool{}
	for i := range f.Spec.Clusters {
		fc := f.Spec.Clusters[i]
		rc := ResolvedCluster{Cluster: fc}
		if g, ok := groups[[2]string{fc.Stack, fc.Name}]; ok {
			used[[2]string{fc.Stack, fc.Name}] = true
			old, _ := prev.Cluster(fc.Name)
			rc = joinFileCluster(fc, g, listed, old)
		}
		out.Clusters = append(out.Clusters, rc)
	}
	var labelled []ResolvedCluster
	for _, key := range sortedGroupKeys(groups) {
		if used[key] {
			continue
		}
		g := groups[key]
		members := claimed(g, listed, &out)
		if len(members) == 0 {
			continue
		}
		g.members = members
		if f.Spec.Defaults.Admin.Token.IsZero() {
			out.Problems = append(out.Problems, fmt.Sprintf("services %s name cluster %q (%s) but spec.defaults.admin.token is not set: label-defined clusters take their token from it, so %s is not managed",
				names(g.members), g.name, LabelCluster, LabelClusterName(g.stack, g.name)))
			continue
		}
		old, had := prev.Cluster(LabelClusterName(g.stack, g.name))
		rc, ok := labelCluster(f.Spec.Defaults, g, old, had)
		if !ok {
			out.Problems = append(out.Problems, rc.Problems...)
			out.Problems = append(out.Problems, fmt.Sprintf("cluster %s is not managed until these problems are fixed", LabelClusterName(g.stack, g.name)))
			continue
		}
		labelled = append(labelled, rc)
	}
	out.Clusters = append(out.Clusters, labelled...)
	out.Problems = capProblems(out.Problems)
	return out
}

// groupLabels parses every service's labels and groups the services by
// stack and cluster name; a service whose cluster label is invalid makes
// a problem of its own.
func groupLabels(services []LabelledService) (map[[2]string]*labelGroup, []string) {
	groups := map[[2]string]*labelGroup{}
	var problems []string
	for _, svc := range services {
		name, s, errs := parseLabels(svc)
		if name == "" {
			problems = append(problems, errorStrings(errs)...)
			continue
		}
		key := [2]string{svc.Stack, name}
		g := groups[key]
		if g == nil {
			g = &labelGroup{stack: svc.Stack, name: name}
			groups[key] = g
		}
		g.members = append(g.members, labelMember{svc: svc, settings: s, errs: errs})
	}
	for _, g := range groups {
		slices.SortFunc(g.members, func(a, b labelMember) int { return compareServiceIDs(a.svc, b.svc) })
	}
	return groups, problems
}

// listedServices maps "stack/service" to the index of the file's cluster
// that lists it (the first).
func listedServices(f *File) map[string]int {
	out := map[string]int{}
	for i, c := range f.Spec.Clusters {
		for _, s := range c.Services {
			if _, ok := out[c.Stack+"/"+s]; !ok {
				out[c.Stack+"/"+s] = i
			}
		}
	}
	return out
}

// joinFileCluster adds to the file's cluster fc the services of g that
// it does not list and whose labels agree with it.
func joinFileCluster(fc Cluster, g *labelGroup, listed map[string]int, old ResolvedCluster) ResolvedCluster {
	rc := ResolvedCluster{Cluster: fc}
	for _, m := range g.members {
		if slices.Contains(fc.Services, m.svc.Service) {
			// Listed and labelled: the labels must still agree.
			if len(m.errs) > 0 {
				rc.Problems = append(rc.Problems, errorStrings(m.errs)...)
			} else {
				rc.Problems = append(rc.Problems, labelDisagreements(fc, m)...)
			}
			continue
		}
		if i, ok := listed[m.where()]; ok {
			rc.Problems = append(rc.Problems, fmt.Sprintf("service %s: label %s=%s: the service is listed in spec.clusters[%d]; the file wins and the label is ignored",
				m.where(), LabelCluster, g.name, i))
			continue
		}
		var trouble []string
		if len(m.errs) > 0 {
			trouble = errorStrings(m.errs)
		} else {
			trouble = labelDisagreements(fc, m)
		}
		rc.Problems = append(rc.Problems, trouble...)
		if len(trouble) == 0 || slices.Contains(old.Labelled, m.svc.Service) {
			rc.Labelled = append(rc.Labelled, m.svc.Service)
		}
	}
	rc.Kept = len(rc.Problems) > 0
	slices.Sort(rc.Labelled)
	rc.Cluster.Services = append(slices.Clone(fc.Services), rc.Labelled...)
	return rc
}

// labelDisagreements names each label of m that sets something else than
// the file's cluster fc has.
func labelDisagreements(fc Cluster, m labelMember) []string {
	with := fc
	with.Membership.States = slices.Clone(fc.Membership.States)
	with.Membership.HealthStates = slices.Clone(fc.Membership.HealthStates)
	m.settings.apply(&with)
	var out []string
	for _, d := range differences(with, "the service", fc, "cluster "+fc.Name+" of the file") {
		out = append(out, fmt.Sprintf("service %s: label %s: the file's settings hold, and the service stays in or out of the cluster as it was until they agree", m.where(), d))
	}
	return out
}

// claimed returns the members of g that the file does not list in one of
// its clusters; the others are problems of that cluster.
func claimed(g *labelGroup, listed map[string]int, out *Resolution) []labelMember {
	var keep []labelMember
	for _, m := range g.members {
		i, ok := listed[m.where()]
		if !ok {
			keep = append(keep, m)
			continue
		}
		rc := &out.Clusters[i]
		rc.Problems = append(rc.Problems, fmt.Sprintf("service %s: label %s=%s: the service is listed in spec.clusters[%d] (%s); the file wins and the label is ignored",
			m.where(), LabelCluster, g.name, i, rc.Cluster.Name))
	}
	return keep
}

// labelCluster builds the label-defined cluster of g: the defaults under
// the labels of its oldest service, which every other must match. With
// problems it returns the cluster as old had it, limited to the services
// g still holds; false when there is none to keep.
func labelCluster(d Defaults, g *labelGroup, old ResolvedCluster, had bool) (ResolvedCluster, bool) {
	name := LabelClusterName(g.stack, g.name)
	var problems []string
	var first Cluster
	firstWho := ""
	for _, m := range g.members {
		if len(m.errs) > 0 {
			problems = append(problems, errorStrings(m.errs)...)
			continue
		}
		c := d.Cluster(name, g.stack, []string{m.svc.Service})
		m.settings.apply(&c)
		c.Default()
		var v validator
		c.validateSettings(&v, "")
		if err := v.err(); err != nil {
			problems = append(problems, fmt.Sprintf("service %s: the labels over spec.defaults give an invalid cluster: %s", m.where(), oneLine(err)))
			continue
		}
		if firstWho == "" {
			first, firstWho = c, m.where()
			continue
		}
		for _, diff := range differences(c, m.where(), first, firstWho) {
			problems = append(problems, fmt.Sprintf("services of cluster %s disagree: %s", name, diff))
		}
	}
	services := make([]string, len(g.members))
	for i, m := range g.members {
		services[i] = m.svc.Service
	}
	slices.Sort(services)
	if len(problems) == 0 {
		first.Services = services
		return ResolvedCluster{Cluster: first, FromLabels: true, Labelled: services}, true
	}
	rc := ResolvedCluster{FromLabels: true, Problems: problems, Kept: true}
	if !had {
		return rc, false
	}
	rc.Cluster = old.Cluster
	rc.Cluster.Services = slices.DeleteFunc(slices.Clone(old.Cluster.Services), func(s string) bool { return !slices.Contains(services, s) })
	rc.Labelled = slices.Clone(rc.Cluster.Services)
	return rc, len(rc.Cluster.Services) > 0
}

func sortedGroupKeys(groups map[[2]string]*labelGroup) [][2]string {
	keys := make([][2]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		return cmp.Compare(LabelClusterName(a[0], a[1]), LabelClusterName(b[0], b[1]))
	})
	return keys
}

// compareServiceIDs orders services by Rancher id ("1s9" before "1s12"),
// then by name.
func compareServiceIDs(a, b LabelledService) int {
	na, ea := idNumber(a.ID)
	nb, eb := idNumber(b.ID)
	if ea == nil && eb == nil && na != nb {
		return cmp.Compare(na, nb)
	}
	return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Service, b.Service))
}

// idNumber is the database id in a Rancher service id ("1s12": 12).
func idNumber(id string) (int64, error) {
	n, ok := strings.CutPrefix(id, "1s")
	if !ok {
		return 0, fmt.Errorf("%q is not a service id", id)
	}
	return strconv.ParseInt(n, 10, 64)
}

func names(ms []labelMember) string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.where()
	}
	return strings.Join(out, ", ")
}

func errorStrings(errs []error) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

// oneLine joins a joined error's lines with "; ".
func oneLine(err error) string {
	var parts []string
	for _, l := range strings.Split(err.Error(), "\n") {
		parts = append(parts, strings.TrimPrefix(l, ": "))
	}
	return strings.Join(parts, "; ")
}

func capProblems(ps []string) []string {
	if len(ps) <= maxProblems {
		return ps
	}
	return append(ps[:maxProblems:maxProblems], fmt.Sprintf("and %d more problems", len(ps)-maxProblems))
}
