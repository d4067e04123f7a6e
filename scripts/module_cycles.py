#!/usr/bin/env python3
"""Module import graph of a Rust crate from `crate::`/`super::` paths; print cycles and exit 1
when there is any (`make lint` runs it on src/).
File granularity (src/a/b.rs -> a::b); edges between a module and its own ancestors are
ignored (mod.rs <-> child is ordinary Rust), everything else counts."""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
mods = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p = os.path.join(d, f)
        rel = os.path.relpath(p, root)[:-3].split(os.sep)
        if rel[-1] == 'mod': rel = rel[:-1]
        if rel in (['lib'], ['main']): rel = []
        mods['::'.join(rel)] = p
names = set(mods)
def resolve(path):
    # longest prefix that is a module file
    parts = path.split('::')
    for i in range(len(parts), 0, -1):
        cand = '::'.join(parts[:i])
        if cand in names: return cand
    return None
def strip_comments(s):
    s = re.sub(r'/\*.*?\*/', '', s, flags=re.S)
    return '\n'.join(l.split('//')[0] if '"' not in l else l for l in s.split('\n'))
edges = {m: set() for m in names}
for m, p in mods.items():
    src = open(p).read()
    # only non-test code
    src = src.split('#[cfg(test)]')[0]
    src = strip_comments(src)
    me = m.split('::') if m else []
    parent = me[:-1]
    paths = []
    for mm in re.finditer(r'\bcrate((?:::\w+)+)', src):
        paths.append(mm.group(1)[2:])
    for mm in re.finditer(r'\bsuper((?:::\w+)+)', src):
        paths.append('::'.join(parent + mm.group(1)[2:].split('::')))
    # grouped `use crate::{a, b::c}`
    for mm in re.finditer(r'\buse crate::\{([^;]*)\};', src, flags=re.S):
        for item in re.split(r',\s*(?![^{]*\})', mm.group(1)):
            item = item.strip()
            if item: paths.append(re.sub(r'::\{.*', '', item, flags=re.S))
    for pth in paths:
        t = resolve(pth)
        if t is None or t == m: continue
        tp = t.split('::') if t else []
        if me[:len(tp)] == tp or tp[:len(me)] == me: continue  # ancestor/descendant
        edges[m].add(t)
# Tarjan SCC
idx, low, st, on, out, c = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges[v]:
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: out.append(sorted(comp))
for v in sorted(names):
    if v not in idx: sc(v)
if len(sys.argv) > 2:
    for m in sys.argv[2:]:
        print(f'{m} -> {sorted(edges.get(m, []))}')
for comp in out:
    print('CYCLE:', comp)
    for a in comp:
        print('   ', a, '->', sorted(e for e in edges[a] if e in comp))
print(f'{len(out)} cycle(s) among {len(names)} modules')
sys.exit(1 if out else 0)
