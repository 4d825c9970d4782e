package main

func (r *results) writePlot(path string) error { return nil }
