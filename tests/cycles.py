#!/usr/bin/env python3
"""cycles.py BUILD: no file of harness/, checks/ or reports/ depends on
itself through others, by symbols: file A depends on file B when A's object
uses a symbol that B's object defines (nm). Edges out of a registry.c are
left out: a registry table naming the drivers is the one way a family's
core may reach its drivers. Prints each cycle (its files, and the symbols
of each edge) and exits 1; exits 0 when there is none."""
import collections
import glob
import os
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"
root = os.path.join(build, "obj")
objs = sorted(
    o for o in glob.glob(os.path.join(root, "**", "*.o"), recursive=True)
    if os.path.relpath(o, root).split(os.sep)[0] in ("harness", "checks", "reports"))
if not objs:
    print(f"cycles: no objects under {root}: build first", file=sys.stderr)
    sys.exit(2)
defs, uses = {}, collections.defaultdict(set)
for o in objs:
    src = os.path.relpath(o, root)[:-2] + ".c"
    if not os.path.exists(src):
        continue  # a stale object of a file that is gone
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "TDBR":
            defs[p[2]] = src
        elif len(p) == 2 and p[0] == "U":
            uses[src].add(p[1])
edges, why = collections.defaultdict(set), {}
for f, syms in uses.items():
    if f.endswith("/registry.c"):
        continue
    for s in syms:
        d = defs.get(s)
        if d and d != f:
            edges[f].add(d)
            why.setdefault((f, d), []).append(s)

index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(100000)


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges.get(v, ())):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            comps.append(sorted(comp))


for v in sorted(set(defs.values()) | set(uses)):
    if v not in index:
        visit(v)
for c in comps:
    print("cycle: " + " ".join(c))
    for a in c:
        for b in sorted(edges[a]):
            if b in c:
                print(f"  {a} -> {b}: {', '.join(sorted(why[(a, b)])[:4])}")
files = len(set(defs.values()) | set(uses))
if comps:
    print(f"cycles: {len(comps)} among {files} files")
    sys.exit(1)
print(f"cycles: none among {files} files")
