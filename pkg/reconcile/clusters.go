package reconcile

import (
	"slices"
	"time"

	"github.com/drover-mesh/drover/pkg/config"
	"github.com/drover-mesh/drover/pkg/mesh"
)

// ClusterSource says which clusters the controller manages. cmd/controller
// implements it over the config file (reloaded on change) and the
// clusters that Rancher's service labels define.
type ClusterSource interface {
	// Clusters returns the clusters to manage now. The controller calls it
	// at the start of every pass and again after the pass's snapshot: when
	// the second answer has another Revision (the snapshot listed what
	// defines clusters), another pass follows at once. It must be fast and
	// never wait on I/O (a source that reads labels reads the observer's
	// cache).
	Clusters() ClusterSet
}

// Elector decides whether this controller leads or stands by. A standby
// controller observes, computes and shows its plan, and sends nothing to
// the nodes. cmd/controller implements it over Rancher: the leader is the
// running, healthy container of the controller's own service with the
// lowest createIndex.
type Elector interface {
	// Elect decides from a pass's complete snapshot. An elector that cannot
	// tell (its own container not seen yet) says what it said last.
	Elect(snap mesh.Snapshot) Election
}

// Election is an Elector's decision.
type Election struct {
	// Leader: this controller changes nodes. Otherwise it stands by.
	Leader bool
	// Self and Holder name this controller and the leader (e.g. container
	// names); Holder is empty when no controller qualifies.
	Self, Holder string
	// Reason says why, for the status and the log.
	Reason string
}

// Cluster sources, as in ManagedCluster.Source.
const (
	// SourceFile: a cluster of the config file (labelled services may have
	// joined it).
	SourceFile = "file"
	// SourceLabels: a cluster that service labels alone define.
	SourceLabels = "labels"
)

// ClusterSet is the clusters to manage and what is known about the
// configuration behind them.
type ClusterSet struct {
	// Revision changes whenever anything else in the set does.
	Revision uint64
	// Clusters are the managed clusters, with unique names, defaulted and
	// valid.
	Clusters []ManagedCluster
	// Conditions are about the configuration as a whole (ConfigInvalid,
	// LabelsInvalid, RestartRequired), shown at the top of the status.
	Conditions []Condition
	// Config describes the configuration in effect.
	Config ConfigStatus
}

// ManagedCluster is one managed cluster and where it comes from.
type ManagedCluster struct {
	config.Cluster
	// Source is SourceFile or SourceLabels.
	Source string
	// Labelled are the services that joined through their labels.
	Labelled []string
	// Conditions are what the source knows about the cluster (e.g.
	// ConfigInvalid, LabelConflict); the source states every type it uses
	// on every call, true or false.
	Conditions []Condition
}

// ConfigStatus describes the configuration in effect, as the status shows
// it.
type ConfigStatus struct {
	// Path is the config file.
	Path string `json:"path,omitempty"`
	// Digest identifies the content in effect (e.g. "sha256:1f2e...").
	Digest string `json:"digest,omitempty"`
	// LoadedAt is when the content in effect was loaded.
	LoadedAt time.Time `json:"loadedAt,omitzero"`
	// Reloads counts the reload attempts since start; Failed those that
	// kept the last good configuration.
	Reloads int64 `json:"reloads"`
	Failed  int64 `json:"failed"`
	// Errors are the problems of the last attempt when it failed: the file
	// in effect is the last good one.
	Errors []string `json:"errors,omitempty"`
	// PendingRestart names settings changed in the file that apply only
	// after a restart; the running values stay.
	PendingRestart []string `json:"pendingRestart,omitempty"`
}

// Condition types of the configuration (ClusterSet.Conditions and
// ManagedCluster.Conditions).
const (
	// ConditionConfigInvalid: the last reload of the config file failed;
	// the last good configuration keeps running.
	ConditionConfigInvalid = "ConfigInvalid"
	// ConditionLabelConflict: labels of the cluster's services disagree or
	// are invalid; the cluster runs as it last resolved.
	ConditionLabelConflict = "LabelConflict"
	// ConditionLabelsInvalid: labels that define no managed cluster have
	// problems (controller level).
	ConditionLabelsInvalid = "LabelsInvalid"
	// ConditionRestartRequired: the file changed settings that apply only
	// after a restart (controller level).
	ConditionRestartRequired = "RestartRequired"
	// ConditionManaged: false for a cluster that left the configuration:
	// nothing is sent to its nodes, which keep their links.
	ConditionManaged = "Managed"
)

// StaticClusters is the ClusterSource of a fixed list of clusters (from
// the config file, defaulted and validated).
func StaticClusters(clusters []config.Cluster) ClusterSource {
	set := ClusterSet{Revision: 1, Clusters: make([]ManagedCluster, len(clusters))}
	for i, c := range clusters {
		set.Clusters[i] = ManagedCluster{Cluster: c, Source: SourceFile}
	}
	return staticSource{set}
}

type staticSource struct{ set ClusterSet }

func (s staticSource) Clusters() ClusterSet { return s.set }

// names returns the managed clusters' names.
func (s ClusterSet) names() map[string]bool {
	out := make(map[string]bool, len(s.Clusters))
	for _, c := range s.Clusters {
		out[c.Name] = true
	}
	return out
}

// deepCopy returns a copy that shares no slice with s.
func (c ConfigStatus) deepCopy() ConfigStatus {
	c.Errors = slices.Clone(c.Errors)
	c.PendingRestart = slices.Clone(c.PendingRestart)
	return c
}
