"""Which files one writer call takes: a file with many sites (or the selection's own file)
alone, small files together — so a change over 40 files is not 40 calls. Pure; the plan's
estimate and the run use the same grouping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

ALONE_SITES = 4  # a file with this many sites or more gets a call of its own
GROUP_FILES = 4  # small files per call, at most
GROUP_SITES = 8  # sites per call of small files, at most


def write_groups(
    sites_by_file: Mapping[str, Sequence[int]], own_file: str | None = None
) -> list[tuple[str, ...]]:
    """The files of each writer call, biggest first; every file once. ``own_file`` (the
    selection's) always gets a call of its own."""
    order = sorted(sites_by_file, key=lambda p: (-len(sites_by_file[p]), p))
    groups: list[tuple[str, ...]] = []
    small: list[str] = []
    count = 0
    for path in order:
        n = len(sites_by_file[path])
        if path == own_file or n >= ALONE_SITES:
            groups.append((path,))
            continue
        if small and (len(small) >= GROUP_FILES or count + n > GROUP_SITES):
            groups.append(tuple(small))
            small, count = [], 0
        small.append(path)
        count += n
    if small:
        groups.append(tuple(small))
    return groups
