package poll

// HeldPolls returns how many sessions have a poll held, waiting for a
// frame or the end of its wait: a test that must act on a held poll waits
// for it instead of sleeping and hoping.
func (s *Server) HeldPolls() int {
	s.mu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for _, c := range s.sessions {
		list = append(list, c)
	}
	s.mu.Unlock()
	n := 0
	for _, c := range list {
		c.mu.Lock()
		if c.wait != nil {
			n++
		}
		c.mu.Unlock()
	}
	return n
}

// Sessions returns how many sessions the server remembers, tombstones
// included.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}
