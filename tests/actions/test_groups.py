"""Writer calls for a wide change: big files alone, small ones together, every file once."""

from scopewise.actions.wide.groups import write_groups


def test_big_files_alone_small_files_share_a_call() -> None:
    sites = {"a.py": [1, 2, 3, 4, 5], "own.py": [9], **{f"s{i}.py": [i] for i in range(6)}}
    groups = write_groups(sites, own_file="own.py")
    assert ("a.py",) in groups and ("own.py",) in groups
    small = [g for g in groups if g[0].startswith("s")]
    assert [len(g) for g in small] == [4, 2]  # 6 one-site files: two calls, not six
    listed = [p for g in groups for p in g]
    assert sorted(listed) == sorted(sites)  # every file exactly once


def test_a_group_stops_at_its_site_limit() -> None:
    sites = {"x.py": [1, 2, 3], "y.py": [1, 2, 3], "z.py": [1, 2, 3]}
    assert write_groups(sites) == [("x.py", "y.py"), ("z.py",)]
