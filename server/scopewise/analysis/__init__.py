"""Analysis over the index: sources and name resolution, the scope of a range, the context a
range needs (candidates: what may go in; packing: what fits), redaction of what is sent, and
the engine that answers those questions. Its queries only read the index (`Engine.sync` and
`Engine.index` are the writers). It knows nothing of Claude, actions or the editor protocol."""
