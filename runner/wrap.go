package runner

// wrap assembles the behaviour every step gets, in one place: the span
// covers the cache lookup too, so a trace shows what a hit saved.
func (r *Runner) wrap(s Step) Step {
	s = Cached(s, r.Cache)
	s = Traced(s, r.Tracing)
	return s
}
