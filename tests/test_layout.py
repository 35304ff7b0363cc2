"""The shape of the source tree (issue 12): folders call one way, fs/ has no
circle between its files, no source file is much over 700 lines, and fs/
never reaches auth/.  Read from the objects the build made (who defines and
who uses each symbol) and from the sources' #include lines."""
import glob
import os
import re
import subprocess

from testenv import ROOT, build_dir

MAX_LINES = 700
LAYERS = ["main", "agent", "check", "cli", "fs", "scan", "jira", "auth", "util"]  # each may use only those after it


def objects():
    objs = glob.glob(os.path.join(build_dir(), "libjirafs.a.p", "*.o"))
    assert objs, "no objects: build first"
    return objs


def symbols(obj, defined):
    args = ["nm", "--defined-only"] if defined else ["nm", "-u"]
    out = subprocess.run(args + [obj], capture_output=True, text=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if defined and len(parts) == 3 and parts[1] in "TDBR":
            syms.add(parts[2])
        elif not defined and parts:
            syms.add(parts[-1])
    return syms


def source_of(obj):
    # libjirafs.a.p/fs_inode.c.o -> fs/inode.c
    base = os.path.basename(obj)[:-len(".c.o")]
    folder, name = base.split("_", 1)
    return f"{folder}/{name}.c"


def call_graph():
    defs, graph = {}, {}
    objs = objects()
    for o in objs:
        for s in symbols(o, True):
            defs[s] = source_of(o)
    for o in objs:
        src = source_of(o)
        graph[src] = {defs[s] for s in symbols(o, False) if s in defs and defs[s] != src}
    return graph


def test_fs_files_call_one_way():
    graph = {f: {t for t in ts if t.startswith("fs/")}
             for f, ts in call_graph().items() if f.startswith("fs/")}
    done, on_stack = set(), []

    def visit(f):
        on_stack.append(f)
        for t in sorted(graph.get(f, ())):
            assert t not in on_stack, "circle: " + " -> ".join(on_stack[on_stack.index(t):] + [t])
            if t not in done:
                visit(t)
        on_stack.pop()
        done.add(f)

    for f in sorted(graph):
        if f not in done:
            visit(f)
    # the leaves stay leaves, the adapters stay on top
    assert graph["fs/node.c"] == set()
    assert not any("fs/session.c" in ts for ts in graph.values())


def test_folders_call_down_only():
    for f, targets in call_graph().items():
        mine = LAYERS.index(f.split("/")[0])
        for t in targets:
            assert LAYERS.index(t.split("/")[0]) >= mine, f"{f} calls up into {t}"


def test_includes_point_down_and_fs_never_reaches_auth():
    for path in glob.glob(os.path.join(ROOT, "*", "*.[ch]")) + [os.path.join(ROOT, "main.c")]:
        rel = os.path.relpath(path, ROOT)
        folder = rel.split("/")[0] if "/" in rel else "main"
        if folder not in LAYERS:
            continue
        for inc in re.findall(r'^#include "([a-z]+)/', open(path).read(), re.M):
            assert LAYERS.index(inc) >= LAYERS.index(folder), f"{rel} includes {inc}/"
            assert not (folder == "fs" and inc == "auth"), f"{rel} includes auth/"


def test_no_source_file_is_much_over_700_lines():
    for folder in ("fs", "jira", "auth", "util", "check", "cli", "agent", "scan"):
        for path in glob.glob(os.path.join(ROOT, folder, "*.[ch]")):
            n = sum(1 for _ in open(path))
            assert n <= MAX_LINES, f"{os.path.relpath(path, ROOT)}: {n} lines"
