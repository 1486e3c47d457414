"""Analysis over the index: sources and name resolution, the scope of a range, the context a
range needs, and the engine that answers those questions (read-only over the index)."""
