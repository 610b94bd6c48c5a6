"""Calls go one way inside the engine (DESIGN "House style"): reads
src/engine/*.c, finds the calls each file makes into another file's
functions (module prefix = file name), and fails on a call cycle between
files, unless every cycle it is in goes through a known upward call listed
below.  engine.c is the top: no other file may call into it at all
(callbacks it hands down are fine: calls through a pointer it gave).

usage: calls.py [--graph] [DIR]"""
import os
import re
import sys

# Upward calls that still close cycles below engine.c: none are left (issue
# 9, item 5: the last ones became callbacks engine.c hands down).  Never add
# one to make a new cycle pass.
KNOWN = set()
TOP = "engine"

COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
CALL = re.compile(r"\b([a-z][a-z0-9]*)_([a-z0-9_]+)\s*\(")
DEF = re.compile(r"^[a-z][^;{}()=]*?\b([a-z][a-z0-9]*_[a-z0-9_]+)\s*\([^;]*$", re.M)


def graph(d):
    mods = sorted(f[:-2] for f in os.listdir(d) if f.endswith(".c"))
    edges = {}
    for m in mods:
        text = open(os.path.join(d, m + ".c"), encoding="utf-8").read()
        text = STRING.sub('""', COMMENT.sub(" ", text))
        own = set(DEF.findall(text))  # the file's own functions, static ones too
        for pre, rest in CALL.findall(text):
            fn = pre + "_" + rest
            if pre != m and pre in mods and fn not in own:
                edges.setdefault((m, pre), set()).add(fn)
    return mods, edges


def sccs(mods, edges):
    """Tarjan: the strongly connected sets of modules (the cycles)."""
    succ = {m: sorted(b for (a, b) in edges if a == m) for m in mods}
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for m in mods:
        if m not in index:
            visit(m)
    return out


def main(argv):
    show = "--graph" in argv
    args = [a for a in argv if a != "--graph"]
    d = args[0] if args else "src/engine"
    mods, edges = graph(d)
    if show:
        for (a, b), fns in sorted(edges.items()):
            print("%s -> %s: %s" % (a, b, " ".join(sorted(fns))))
    bad = []
    for (a, b), fns in sorted(edges.items()):
        if b == TOP:
            bad.append("%s.c calls up into %s.c: %s" % (a, b, " ".join(sorted(fns))))
    down = {k: v for k, v in edges.items() if k not in KNOWN}
    for comp in sccs(mods, down):
        for (a, b), fns in sorted(down.items()):
            if a in comp and b in comp:
                bad.append("%s.c -> %s.c is in a call cycle among %s: %s"
                           % (a, b, ", ".join(sorted(comp)), " ".join(sorted(fns))))
    for (a, b) in sorted(KNOWN):
        if (a, b) not in edges:
            bad.append("%s.c no longer calls %s.c: drop the edge from KNOWN in %s"
                       % (a, b, sys.argv[0]))
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
