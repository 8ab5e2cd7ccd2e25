package runner

// wrap assembles the behaviour every step gets, in one place: the span
// covers the cache lookup too, so a trace shows what a hit saved.
func (r *Runner) wrap(s Step, h *holds) Step {
	s = cached(s, r.Cache, h)
	s = Traced(s, r.Tracing)
	return s
}
