package ranchersim

import "runtime"

// ProcessStats are the simulator process's own Go runtime figures, served
// at GET /_sim/process: a soak run watches them for leaks, since the
// simulator hosts the in-process Go agents of --runtime go.
type ProcessStats struct {
	// Goroutines is runtime.NumGoroutine().
	Goroutines int `json:"goroutines"`
	// HeapInuseBytes and HeapObjects are from runtime.MemStats.
	HeapInuseBytes uint64 `json:"heapInuseBytes"`
	HeapObjects    uint64 `json:"heapObjects"`
}

// Process returns the simulator process's figures (it stops the world for
// a moment: call it every few seconds, not in a loop).
func (s *Sim) Process() ProcessStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ProcessStats{Goroutines: runtime.NumGoroutine(), HeapInuseBytes: ms.HeapInuse, HeapObjects: ms.HeapObjects}
}
