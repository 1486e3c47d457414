"""The index: which files of a workspace count (files), how each is parsed and what is
extracted from it (languages, extract, model), the whole workspace's tables kept current and
cached on disk (workspace, cache), and open editor buffers with their parse trees (buffer,
lines). It knows nothing of analysis, Claude, actions or the editor protocol."""
