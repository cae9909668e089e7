#!/usr/bin/env python3
"""stackcheck: the worst-case stack of every fbvm thread, checked at build time.

Reads gcc's -fcallgraph-info=su output (one .ci file per object, VCG: a node
per function with its frame size, an edge per call) for fbvm's own code and,
for each thread (its entry function, its fixed stack size from
stack/stack_sizes.h), finds the call path that needs the most stack:

  our frames (.ci)  +  library allowances  +  thread overhead  +  signal handlers

- Calls through function pointers are resolved from tools/stackcheck.annotations
  (device ops tables, libvncserver callbacks, thread entries); the rest are
  listed as unresolved.
- A callee with no definition in our .ci files is a library function. Its
  allowance comes from tools/framescan.py run on the shared library that
  defines it: the deepest direct-call path from that symbol across the
  libraries (minus paths the annotations prune as dead in fbvm); when that
  walk meets a call through a pointer or a name it cannot resolve (so the
  static path is not a bound), at least the largest single frame of the
  libraries it reached and the measured runtime high-water mark stated in
  the annotations.
- Recursion (cycles in the call graph) and dynamically sized frames are
  reported: the computed total then counts one trip round each cycle and the
  static part of each dynamic frame.

Fails (exit 1) if a thread's total exceeds --limit-percent (50) of its stack,
or any function of ours has a frame over --max-frame (16 KiB).

Over 800 lines on purpose: one check, read top to bottom (.ci parsing, the
annotations, the sources, the walk, the report); the library side is in
tools/framescan.py.

Usage: tools/stackcheck.py [--build build] [--binary build/fbvm] [FILE.ci ...]
"""

import argparse
import fnmatch
import glob
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import framescan  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC_DIRS = ('hypervisor', 'stack', 'devices', 'display', 'vnc', 'sdl', 'control')
KIB = 1024

# ---------------------------------------------------------------- .ci files

_NODE = re.compile(r'^node: \{ title: "([^"]*)" label: "([^"]*)"')
_EDGE = re.compile(r'^edge: \{ sourcename: "([^"]*)" targetname: "([^"]*)"(?: label: "([^"]*)")?')
_USAGE = re.compile(r'^(\d+) bytes \(([^)]*)\)$')


class Func:
    def __init__(self, title, name, loc, frame, qual, ci):
        self.title, self.name, self.loc = title, name, loc
        self.frame, self.qual, self.ci = frame, qual, ci
        self.calls = []       # (target title, location)
        self.indirect = []    # locations of calls through pointers

    @property
    def dynamic(self):
        return 'dynamic' in self.qual and 'bounded' not in self.qual


def read_ci(paths):
    """title -> Func for every function defined in the .ci files."""
    funcs, edges = {}, []
    for path in paths:
        with open(path) as f:
            for line in f:
                m = _NODE.match(line)
                if m:
                    parts = m.group(2).split('\\n')
                    if len(parts) >= 3:
                        u = _USAGE.match(parts[2])
                        if u:
                            funcs[m.group(1)] = Func(m.group(1), parts[0], parts[1],
                                                     int(u.group(1)), u.group(2), path)
                    continue
                m = _EDGE.match(line)
                if m:
                    edges.append(m.groups())
    for src, dst, loc in edges:
        fn = funcs.get(src)
        if fn is None:
            continue
        if dst == '__indirect_call':
            fn.indirect.append(loc or '?')
        elif (dst, loc) not in fn.calls:
            fn.calls.append((dst, loc))
    return funcs


# ------------------------------------------------------- sources and sizes

def parse_size(text, macros):
    """'STACK_VCPU_BYTES', '524288', '512K', '8M' -> bytes."""
    if text in macros:
        return macros[text]
    m = re.fullmatch(r'(\d+)\s*([KkMm]i?[Bb]?)?', text)
    if not m:
        raise ValueError('not a size: %s' % text)
    n = int(m.group(1))
    unit = (m.group(2) or '').upper()[:1]
    return n * {'': 1, 'K': KIB, 'M': KIB * KIB}[unit]


def read_stack_sizes(path):
    """NAME -> bytes for the #defines of stack/stack_sizes.h."""
    macros = {}
    text = open(path).read()
    for name, expr in re.findall(r'^#define\s+(STACK_\w+)\s+(.+?)\s*$', text, re.M):
        e = expr.replace('(size_t)', '')
        e = re.sub(r'\bKiB\(([^()]+)\)', r'(\1*1024)', e)
        e = re.sub(r'\bMiB\(([^()]+)\)', r'(\1*1048576)', e)
        e = re.sub(r'(\d+)u?ll\b', r'\1', e, flags=re.I)
        try:
            macros[name] = int(eval(e, {'__builtins__': {}}, dict(macros)))
        except Exception:
            pass
    return macros


def source_files(paths):
    """The .c files of the given directories (or files)."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(glob.glob(os.path.join(p, '*.c')))
        elif os.path.isfile(p):
            files.append(p)
        # A source folder that does not exist yet (sdl/) has nothing to scan.
    return files


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', lambda m: ' ' * len(m.group(0)), text, flags=re.S)
    return re.sub(r'//[^\n]*', '', text)


def split_args(text):
    """Top-level comma split of a call's argument text."""
    args, depth, cur = [], 0, ''
    for ch in text:
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        if ch == ',' and depth == 0:
            args.append(cur.strip())
            cur = ''
        else:
            cur += ch
    if cur.strip():
        args.append(cur.strip())
    return args


def call_args(text, start):
    """The argument list text of the call whose '(' is at text[start]."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == '(':
            depth += 1
        elif text[i] == ')':
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    return ''


def find_thread_starts(files):
    """[(file, name expression, stack expression, fn)] for every thread_start() call."""
    found = []
    for path in files:
        text = strip_comments(open(path).read())
        for m in re.finditer(r'\bthread_start\s*\(', text):
            args = split_args(call_args(text, m.end() - 1))
            # The definition's parameters are declarations, not a function name.
            if len(args) == 5 and re.fullmatch(r'\w+', args[3]):
                found.append((os.path.relpath(path, TOP), args[1], args[2], args[3]))
    return found


def braces(text, start):
    depth = 0
    for i in range(start, len(text)):
        if text[i] == '{':
            depth += 1
        elif text[i] == '}':
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    return ''


def pointer_sets(files):
    """Function names stored in function pointers, keyed by the annotation
    selectors that pick them (values are {(file, name)}; names that are not
    functions of ours are dropped later):
      ('struct', TYPE, MEMBER|None)  initializers of `[struct] TYPE x[...] = {...}`
      ('member', MEMBER)             `.MEMBER = fn` and `->MEMBER = fn` anywhere
      ('assign', NAME)               `NAME = fn;` (a global function pointer)
      ('arg', FUNC, N)               fn passed as argument N (from 1) to FUNC()"""
    sets = {}

    def add(key, rel, fn):
        sets.setdefault(key, set()).add((rel, fn))

    for path in files:
        rel = os.path.relpath(path, TOP)
        text = strip_comments(open(path).read())
        for m in re.finditer(r'\b(?:struct\s+(\w+)|(\w+))\s+\w+\s*(?:\[[^]=;]*\])?\s*=\s*\{',
                             text):
            typ = m.group(1) or m.group(2)
            body = braces(text, m.end() - 1)
            for mem, fn in re.findall(r'\.(\w+)\s*=\s*&?([A-Za-z_]\w*)\s*[,}\n]', body + '\n'):
                add(('struct', typ, mem), rel, fn)
                add(('struct', typ, None), rel, fn)
        for mem, fn in re.findall(r'(?:\.|->)(\w+)\s*=\s*&?([A-Za-z_]\w*)\s*[;,}]', text):
            add(('member', mem), rel, fn)
        for name, fn in re.findall(r'(?<![.>\w])(\w+)\s*=\s*&?([A-Za-z_]\w*)\s*;', text):
            add(('assign', name), rel, fn)
        for m in re.finditer(r'\b(\w+)\s*\(', text):
            for n, a in enumerate(split_args(call_args(text, m.end() - 1)), 1):
                if re.fullmatch(r'&?[A-Za-z_]\w*', a):
                    add(('arg', m.group(1), n), rel, a.lstrip('&'))
    return sets


# ------------------------------------------------------------- annotations

class Annotations:
    def __init__(self, path):
        self.threads = []        # (name, entry, stack text, kind, reason)
        self.calls = {}          # caller -> [target spec]
        self.ignore = {}         # caller -> reason
        self.library = {}        # soname -> (bytes, reason)
        self.signals = []        # (thread glob, [handlers])
        self.overhead = (0, '')
        self.signal_frame = (0, '')
        self.lazy_binding = (0, '')
        self.prebound = set()    # library functions called once early: lazy slots bound
        self.recursion = {}      # function -> (max depth, reason)
        self.prune = []          # (library function, [our callees that make it live])
        self.path = path
        for n, raw in enumerate(open(path), 1):
            line = raw.split('#', 1)[0].strip()
            reason = raw.split('#', 1)[1].strip() if '#' in raw else ''
            if not line:
                continue
            f = line.split()
            kw, rest = f[0], f[1:]
            try:
                if kw == 'thread':
                    kind = rest[3] if len(rest) > 3 else 'started'
                    if kind not in ('started', 'process-stack', 'altstack'):
                        raise ValueError('thread kind must be process-stack or altstack')
                    self.threads.append((rest[0], rest[1], rest[2], kind, reason))
                elif kw == 'calls':
                    self.calls.setdefault(rest[0], []).extend(rest[1:])
                elif kw == 'unresolved-ok':
                    self.ignore[rest[0]] = reason
                elif kw == 'library':
                    self.library[rest[0]] = (parse_size(rest[1], {}), reason)
                elif kw == 'signal':
                    self.signals.append((rest[0], rest[1:]))
                elif kw == 'thread-overhead':
                    self.overhead = (parse_size(rest[0], {}), reason)
                elif kw == 'signal-frame':
                    self.signal_frame = (parse_size(rest[0], {}), reason)
                elif kw == 'lazy-binding':
                    self.lazy_binding = (parse_size(rest[0], {}), reason)
                elif kw == 'prebound':
                    self.prebound.update(rest)
                elif kw == 'prune':
                    if len(rest) > 1 and rest[1] != 'unless-called':
                        raise ValueError('expected: prune FUNCTION [unless-called NAME...]')
                    self.prune.append((rest[0], rest[2:]))
                elif kw == 'recursion':
                    self.recursion[rest[0]] = (int(rest[1]), reason)
                else:
                    raise ValueError('unknown keyword %s' % kw)
            except (IndexError, ValueError) as e:
                raise SystemExit('%s:%d: %s: %s' % (path, n, e, raw.strip()))


# -------------------------------------------------------------- libraries

def bound_now(path):
    """Whether the object was linked with -z now (no lazy PLT binding)."""
    out = subprocess.run(['readelf', '-dW', path], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    return bool(re.search(r'\(FLAGS\)\s.*\bBIND_NOW\b|\(FLAGS_1\)\s.*\bNOW\b', out))


def linked_libraries(binary):
    """[(soname, path)]: the executable itself first (it holds static pieces
    such as libc_nonshared's atexit and libgcc's helpers), then what ldd
    lists, the dynamic loader included."""
    out = subprocess.run(['ldd', binary], stdout=subprocess.PIPE, text=True).stdout
    libs = [(os.path.basename(binary), binary)]
    for line in out.splitlines():
        m = re.match(r'\s*(\S+) => (/\S+)', line) or re.match(r'\s*((/\S+)) \(0x', line)
        if m:
            libs.append((os.path.basename(m.group(1)), m.group(2)))
    return libs


class Libraries:
    """Allowances for calls into the shared libraries fbvm links."""

    def __init__(self, binary, ann, cache):
        self.libs = linked_libraries(binary)
        self.objs = [framescan.analyze(p, cache) for _, p in self.libs]
        self.linked = framescan.Linked(self.objs, [p for p, _ in ann.prune])
        self.soname = {os.path.realpath(p): s for s, p in self.libs}
        self.ann = ann
        self.largest = [max(o['functions'], key=lambda f: f.frame) for o in self.objs]
        # Objects whose PLT is bound lazily: the first call of each function
        # through it runs the dynamic linker's resolver on the caller's stack.
        self.lazy = [not bound_now(p) and any(f.externals for f in o['functions'])
                     for (_, p), o in zip(self.libs, self.objs)]
        self.reached = {}   # library function -> objects its static walk reached
        self.plt = {}       # library function -> objects whose PLT its walk calls through
        self.cache = {}

    def short(self, i):
        return self.soname.get(self.objs[i]['path'], os.path.basename(self.objs[i]['path']))

    def reach(self, i, fn, callbacks_known=False):
        """Objects, and whether the walk is complete, for everything reachable
        from fn by direct calls. callbacks_known: fn's own calls through
        pointers are the callbacks the annotations list (dl_iterate_phdr's
        callback, say), added to the graph on top of this allowance."""
        seen, todo, objs, plt = set(), [(i, fn)], set(), set()
        complete, why, dynamic = True, [], []
        while todo:
            j, f = todo.pop()
            if (j, f.start) in seen:
                continue
            seen.add((j, f.start))
            objs.add(j)
            if f.indirect and complete and not (callbacks_known and f is fn) and \
                    not (f.exact and f.name in self.ann.ignore):
                complete = False
                why.append('indirect call in %s%s' % ('' if f.exact else '~', f.name))
            if f.dynamic:
                # Their static part counts; glibc caps its own alloca()s
                # (__libc_use_alloca). Noted in the explanation.
                dynamic.append('%s%s' % ('' if f.exact else '~', f.name))
            callees, gone = self.linked.callees(j, f)
            if any(not e.startswith('*ABS*') for e in f.externals):
                plt.add(j)   # calls through its PLT (an IRELATIVE slot is bound at load)
            starts = self.linked.starts[j]
            callees += [(j, starts[t]) for t in f.jumps
                        if t in starts and (j, t) not in self.linked.pruned]
            todo += callees
            if gone and complete:
                complete = False
                why.append('unresolved %s' % gone[0])
        self.plt[fn.name if fn.exact else (i, fn.start)] = plt
        return objs, complete, why, dynamic

    def allowance(self, name):
        """(bytes, library soname or None, explanation, whether the static walk
        was complete) for a call to `name`."""
        if name in self.cache:
            return self.cache[name]
        hit = self.linked.lookup(name)
        if hit is None:
            # Not exported by any library we link: a compiler builtin that
            # stayed a call, or a symbol from the executable's own startup code.
            floor = max(self.largest, key=lambda f: f.frame)
            res = (floor.frame, None, 'not found in any linked library: largest library frame '
                   '(%s, %d B)' % (floor.name, floor.frame), False)
            self.cache[name] = res
            return res
        i, fn = hit
        total, chain, rec, _ = self.linked.worst(i, fn)
        objs, complete, why, dynamic = self.reach(i, fn, name in self.ann.calls)
        # Functions the program calls once before it could matter (the fault
        # handler's, at install time) have their lazy slots bound already.
        self.reached[name] = set() if name in self.ann.prebound else \
            self.plt.get(fn.name if fn.exact else (i, fn.start), set())
        lib = self.short(i)
        parts = ['static path %d B' % total]
        deepest = max(chain, key=lambda jf: jf[1].frame)
        if len(chain) > 1:
            parts[0] += ' (%d frames, largest %s%s %d B)' % (
                len(chain), '' if deepest[1].exact else '~', deepest[1].name, deepest[1].frame)
        best = total
        if not complete:
            j = max(objs, key=lambda k: self.largest[k].frame)
            big = self.largest[j]
            parts.append('not a bound (%s): largest frame of the libraries reached %s%s %d B '
                         '(%s)' % (why[0], '' if big.exact else '~', big.name, big.frame,
                                   self.short(j)))
            best = max(best, big.frame)
            measured = [self.ann.library[self.short(k)] for k in objs
                        if self.short(k) in self.ann.library]
            for b, reason in measured:
                parts.append('measured %d B (%s)' % (b, reason))
                best = max(best, b)
        if rec:
            parts.append('recursion in library: %s' % ', '.join(rec[:3]))
        if dynamic:
            parts.append('%d dynamic frames reachable (e.g. %s)' % (len(dynamic), dynamic[0]))
        res = (best, lib, '; '.join(parts), complete)
        self.cache[name] = res
        return res


# ------------------------------------------------------------------ graph

class Graph:
    def __init__(self, funcs, ann, sets, libs):
        self.funcs, self.ann, self.sets, self.libs = funcs, ann, sets, libs
        self.by_name = {}
        for t, f in funcs.items():
            self.by_name.setdefault(f.name, []).append(t)
        self.unknown_targets = set()

    def resolve(self, name, file=None):
        """Title of our function `name` (static ones preferred from `file`)."""
        if ':' in name and name in self.funcs:
            return name
        if file and '%s:%s' % (file, name) in self.funcs:
            return '%s:%s' % (file, name)
        if name in self.funcs:
            return name
        titles = self.by_name.get(name, [])
        if len(titles) == 1:
            return titles[0]
        return None

    def targets(self, spec, entry):
        """Titles (or 'ext:NAME') an annotation target stands for."""
        if spec == 'thread-entry':
            return [entry] if entry else []
        if spec.startswith('lib:'):
            return ['ext:' + spec[4:]]
        if spec.startswith(('struct:', 'member:', 'assign:', 'arg:')):
            kind, _, sel = spec.partition(':')
            if kind == 'struct':
                typ, _, mem = sel.partition('.')
                key = ('struct', typ, mem or None)
            elif kind == 'arg':
                func, _, n = sel.partition(':')
                key = ('arg', func, int(n))
            else:
                key = (kind, sel)
            out = []
            for file, fn in sorted(self.sets.get(key, ())):
                t = self.resolve(fn, file)
                if t:
                    out.append(t)
            if not out:
                self.unknown_targets.add(spec)
            return out
        t = self.resolve(spec)
        if t is None:
            self.unknown_targets.add(spec)
            return []
        return [t]

    def succ(self, node, entry):
        """[(node, location)] called from node."""
        out = []
        if node.startswith('ext:'):
            name = node[4:]
            specs = list(self.ann.calls.get(name, []))
            _, lib, _, complete = self.libs.allowance(name)
            # A library function whose whole static call tree is known calls
            # nothing through a pointer: none of the library's callbacks.
            if lib and not complete:
                specs += self.ann.calls.get('@' + lib, [])
            for spec in specs:
                out += [(t, 'callback from %s' % name) for t in self.targets(spec, entry)]
            return out
        f = self.funcs[node]
        for dst, loc in f.calls:
            t = dst if dst in self.funcs else None
            out.append((t or 'ext:' + dst, loc))
        for loc in f.indirect:
            specs = self.indirect_specs(f, loc)
            for spec in specs or ():
                out += [(t, 'via pointer at %s' % loc) for t in self.targets(spec, entry)]
        return out

    def indirect_specs(self, f, loc):
        """Annotation targets for the call through a pointer at `loc` in f: keyed
        by location FILE:LINE, by FILE, or by the calling function."""
        loc = loc[2:] if loc.startswith('./') else loc
        parts = loc.split(':')
        for key in (':'.join(parts[:2]), parts[0], f.title, f.name):
            if key in self.ann.calls:
                return self.ann.calls[key]
            if key in self.ann.ignore:
                return []
        return None

    def cost(self, node):
        if node.startswith('ext:'):
            return self.libs.allowance(node[4:])[0]
        return self.funcs[node].frame

    def worst(self, root, entry):
        """(bytes, [(node, location)]) and the cycles met, from root."""
        memo, on_path, cycles = {}, [], []

        def visit(node):
            if node in memo:
                return memo[node]
            if node in on_path:
                cycles.append(on_path[on_path.index(node):] + [node])
                return (0, [])
            on_path.append(node)
            best = (0, [])
            for t, loc in self.succ(node, entry):
                r = visit(t)
                if r[0] > best[0] or (r[0] == best[0] and not best[1]):
                    best = (r[0], [(t, loc)] + r[1])
            on_path.pop()
            res = (self.cost(node) + best[0], best[1])
            memo[node] = res
            return res

        total, rest = visit(root)
        return total, [(root, None)] + rest, cycles, memo

    def reachable(self, root, entry):
        seen, todo = set(), [root]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            todo += [t for t, _ in self.succ(n, entry)]
        return seen


# ----------------------------------------------------------------- report

def kib_num(n):
    return '%.1f' % (n / KIB)


def display(node, graph):
    if node.startswith('ext:'):
        return node[4:]
    f = graph.funcs[node]
    return f.name


def main(argv=None):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('ci', nargs='*', help='.ci files (default: BUILD/{%s}/*.ci)' % ','.join(SRC_DIRS))
    ap.add_argument('--build', default='build')
    ap.add_argument('--binary', help='the linked fbvm (default BUILD/fbvm)')
    ap.add_argument('--annotations', default=os.path.join(TOP, 'tools', 'stackcheck.annotations'))
    ap.add_argument('--stack-sizes', default=os.path.join(TOP, 'stack', 'stack_sizes.h'))
    ap.add_argument('--sources', nargs='+', default=[os.path.join(TOP, d) for d in SRC_DIRS],
                    help='where to find thread_start() calls and function pointer '
                         'assignments (default: %s)' % ' '.join(SRC_DIRS))
    ap.add_argument('--limit-percent', type=float, default=50.0)
    ap.add_argument('--max-frame', type=int, default=16 * KIB)
    ap.add_argument('--strict', action='store_true',
                    help='also fail on unresolved indirect calls, recursion and unbounded '
                         'dynamic frames reachable from a thread')
    ap.add_argument('-v', '--verbose', action='store_true',
                    help='list every library call and its allowance')
    args = ap.parse_args(argv)
    # Positional arguments may be a build folder (`stackcheck.py build`).
    if len(args.ci) == 1 and os.path.isdir(args.ci[0]):
        args.build, args.ci = args.ci[0], []

    ci = args.ci or sorted(p for d in SRC_DIRS
                           for p in glob.glob(os.path.join(args.build, d, '**', '*.ci'),
                                              recursive=True))
    if not args.ci:
        # An object compiled before -fcallgraph-info was added has no call
        # graph: its functions would look like library calls.
        objs = sorted(p for d in SRC_DIRS
                      for p in glob.glob(os.path.join(args.build, d, '**', '*.o'),
                                         recursive=True))
        stale = [o for o in objs if not os.path.exists(o[:-2] + '.ci')]
        if stale:
            print('stackcheck: %d of %d objects under %s have no .ci call graph (e.g. %s): '
                  'run `make check-stack`, which compiles them again'
                  % (len(stale), len(objs), args.build, stale[0]), file=sys.stderr)
            return 2
    if not ci:
        print('stackcheck: no .ci files under %s: build with -fcallgraph-info=su '
              '(tools/stack.mk adds it)' % args.build, file=sys.stderr)
        return 2
    missing = [p for p in ci if not os.path.exists(p)]
    if missing:
        print('stackcheck: missing %s' % ' '.join(missing), file=sys.stderr)
        return 2
    binary = args.binary or os.path.join(args.build, 'fbvm')
    if not os.path.exists(binary):
        print('stackcheck: %s not built: its libraries give the allowances' % binary,
              file=sys.stderr)
        return 2
    funcs = read_ci(ci)
    ann = Annotations(args.annotations)
    macros = read_stack_sizes(args.stack_sizes)
    guard = macros.get('STACK_GUARD_BYTES', framescan.DEFAULT_GUARD)
    files = source_files(args.sources)
    sets = pointer_sets(files)
    libs = Libraries(binary, ann, os.path.join(args.build, 'stack'))
    graph = Graph(funcs, ann, sets, libs)

    failures, warnings = [], []

    # Threads: the annotations, plus every thread_start() call in the sources.
    threads = []
    for name, entry, stack, kind, reason in ann.threads:
        threads.append({'name': name, 'entry': entry, 'stack_text': stack, 'why': reason,
                        'started': kind == 'started', 'altstack': kind == 'altstack'})
    known = {t['entry']: t for t in threads}
    for file, name, stack, fn in find_thread_starts(files):
        if fn in known:
            if known[fn]['stack_text'] != stack:
                failures.append("thread '%s': %s starts it with stack %s, the annotations "
                                "say %s" % (known[fn]['name'], file, stack,
                                            known[fn]['stack_text']))
            continue
        lit = re.fullmatch(r'"([^"]*)"', name)
        threads.append({'name': lit.group(1) if lit else fn, 'entry': fn, 'stack_text': stack,
                        'why': 'found: thread_start() in %s' % file, 'started': True,
                        'altstack': False})
        known[fn] = threads[-1]

    sig_frame = max(ann.signal_frame[0], host_minsigstksz())
    trampoline = graph.resolve('thread_trampoline')
    results = []
    for th in threads:
        entry = graph.resolve(th['entry'])
        if entry is None:
            failures.append("thread '%s': entry %s not found in the .ci files"
                            % (th['name'], th['entry']))
            continue
        try:
            stack = parse_size(th['stack_text'], macros)
        except ValueError:
            failures.append("thread '%s': stack size %s not in %s"
                            % (th['name'], th['stack_text'], args.stack_sizes))
            continue
        # A started thread runs glibc's start_thread -> thread_trampoline -> entry.
        root = trampoline if th['started'] and trampoline else entry
        total, path, cycles, memo = graph.worst(root, entry)
        ours = sum(graph.cost(n) for n, _ in path if not n.startswith('ext:'))
        lib = total - ours
        overhead = ann.overhead[0] if th['started'] else 0
        # Handlers on one `signal` line block each other (sa_mask full): the
        # deepest of them counts. Lines may nest: each adds its deepest.
        handlers = []
        if not th['altstack']:
            for pat, hs in ann.signals:
                if not fnmatch.fnmatchcase(th['name'], pat):
                    continue
                best = None
                for h in hs:
                    t = graph.resolve(h)
                    if t is None:
                        failures.append('signal handler %s not found' % h)
                        continue
                    w = graph.worst(t, entry)
                    if best is None or w[0] > best[1][0]:
                        best = (t, w)
                if best:
                    handlers.append(best)
        else:
            overhead = sig_frame   # the frame the kernel pushes for the handler itself
        sig_total = sum(sig_frame + w[0] for _, w in handlers)
        reach = graph.reachable(root, entry)
        for _, (_, _, _, hmemo) in handlers:
            reach |= set(hmemo)
        # Lazy binding: _dl_runtime_resolve saves the whole XSAVE state (as
        # big as a signal frame's) and looks the symbol up, on this stack,
        # once per function per process; one resolution at a time per thread.
        lazy = set()
        for n in reach:
            if n.startswith('ext:'):
                libs.allowance(n[4:])
                if libs.lazy[0]:
                    lazy.add(0)   # our own calls, through fbvm's PLT
                lazy |= {k for k in libs.reached.get(n[4:], ()) if libs.lazy[k]}
        resolver = sig_frame + ann.lazy_binding[0] if lazy else 0
        grand = total + overhead + sig_total + resolver
        th.update(stack=stack, total=total, path=path, cycles=cycles, ours=ours, lib=lib,
                  overhead=overhead, handlers=handlers, sig_total=sig_total, grand=grand,
                  reach=reach, entry_title=entry, resolver=resolver,
                  lazy=sorted(libs.short(k) for k in lazy))
        results.append(th)

    # ---- per-thread detail
    for th in results:
        print("thread '%s': entry %s (%s), stack %s = %s KiB" % (
            th['name'], display(th['entry_title'], graph), graph.funcs[th['entry_title']].loc,
            th['stack_text'], kib_num(th['stack'])))
        if th['why']:
            print('  (%s)' % th['why'])
        print('  worst path: our frames %d B + library allowances %d B = %d B' % (
            th['ours'], th['lib'], th['total']))
        print('  %8s %9s  %-32s %s' % ('bytes', 'running', 'function', 'where'))
        cum, notes = 0, []
        for node, loc in th['path']:
            c = graph.cost(node)
            cum += c
            if node.startswith('ext:'):
                b, so, how, _ = libs.allowance(node[4:])
                notes.append((node[4:], how))
                print('  %8d %9d  %-32s %s: library allowance [%d]' % (
                    c, cum, node[4:], so or 'unknown library', len(notes)))
            else:
                f = graph.funcs[node]
                via = '  (%s)' % loc if loc and loc.startswith(('via', 'callback')) else ''
                print('  %8d %9d  %-32s %s%s' % (c, cum, f.name, f.loc, via))
        if th['overhead']:
            cum += th['overhead']
            print('  %8d %9d  %s' % (
                th['overhead'], cum, 'kernel signal frame: %s' % ann.signal_frame[1]
                if th['altstack'] else 'thread overhead: %s' % ann.overhead[1]))
        for t, (b, p, _, _) in th['handlers']:
            cum += sig_frame + b
            print('  %8d %9d  signal handler %s, with its %d B kernel frame' % (
                b + sig_frame, cum, ' -> '.join(display(n, graph) for n, _ in p), sig_frame))
        if th['resolver']:
            cum += th['resolver']
            print('  %8d %9d  lazy binding in %s: the resolver saves %d B of XSAVE state, '
                  'then %s' % (th['resolver'], cum, ', '.join(th['lazy']), sig_frame,
                               ann.lazy_binding[1]))
        for i, (name, how) in enumerate(notes, 1):
            print('  [%d] %s: %s' % (i, name, how))
        for c in th['cycles']:
            names = [display(n, graph) for n in c]
            bound = ann.recursion.get(names[0])
            msg = "thread '%s': recursion %s" % (th['name'], ' -> '.join(names))
            if bound:
                msg += ' (bounded: %s)' % bound[1]
            else:
                (failures if args.strict else warnings).append(msg + ' (counted once)')
        print()

    # ---- reachable oddities, per thread
    reported = set()
    for th in results:
        for node in sorted(th['reach']):
            if node.startswith('ext:'):
                continue
            f = graph.funcs[node]
            for loc in f.indirect:
                if graph.indirect_specs(f, loc) is None and ('ind', node, loc) not in reported:
                    reported.add(('ind', node, loc))
                    msg = 'unresolved call through a pointer in %s at %s (thread %s)' % (
                        f.name, loc, th['name'])
                    (failures if args.strict else warnings).append(msg)
            if f.dynamic and ('dyn', node) not in reported:
                reported.add(('dyn', node))
                msg = 'dynamically sized frame: %s (%s, %d B static part) on thread %s' % (
                    f.name, f.loc, f.frame, th['name'])
                (failures if args.strict else warnings).append(msg)
    for spec in sorted(graph.unknown_targets):
        # A stale selector (a renamed ops type) would silently resolve a
        # call to nothing.
        (failures if args.strict else warnings).append(
            'annotation target %s matches no function of ours' % spec)

    # ---- a pruned library path must stay dead: none of our code may call
    # what would make it live
    called = {dst for f in funcs.values() for dst, _ in f.calls}
    for p, unless in ann.prune:
        for u in unless:
            if u in called:
                failures.append('annotation prunes %s, but our code calls %s' % (p, u))

    # ---- frames of ours over the limit, reachable or not
    for f in sorted(funcs.values(), key=lambda f: -f.frame):
        if f.frame > args.max_frame:
            failures.append('frame of %s (%s) is %d B > %d B' % (f.name, f.loc, f.frame,
                                                                  args.max_frame))
    biggest = sorted(funcs.values(), key=lambda f: -f.frame)[:5]

    # ---- library frames that could jump the guard
    used = set()
    for th in results:
        for n in th['reach']:
            if n.startswith('ext:'):
                hit = libs.linked.lookup(n[4:])
                if hit:
                    used.add(hit[0])
    jumpers = []
    for i in sorted(used):
        for f in libs.objs[i]['functions']:
            if f.frame > guard:
                jumpers.append((libs.short(i), f))

    # ---- summary table
    print('%-8s %-20s %8s %8s %8s %8s %8s %6s %8s  %s' % (
        'thread', 'entry', 'ours', 'libs', 'other', 'total', 'stack', 'use', 'margin',
        'result (KiB; limit %g%% of the stack)' % args.limit_percent))
    for th in results:
        limit = th['stack'] * args.limit_percent / 100
        ok = th['grand'] <= limit
        if not ok:
            failures.append("thread '%s': worst case %s KiB exceeds %g%% of its %s KiB stack" % (
                th['name'], kib_num(th['grand']), args.limit_percent, kib_num(th['stack'])))
        print('%-8s %-20s %8s %8s %8s %8s %8s %5.1f%% %8s  %s' % (
            th['name'], display(th['entry_title'], graph)[:20], kib_num(th['ours']),
            kib_num(th['lib']), kib_num(th['overhead'] + th['sig_total'] + th['resolver']),
            kib_num(th['grand']),
            kib_num(th['stack']), 100.0 * th['grand'] / th['stack'],
            kib_num(th['stack'] - th['grand']), 'ok' if ok else 'OVER'))
    print('(ours: our frames on the worst path; libs: library allowances on it; other: glibc '
          'thread descriptor and TLS, signal handlers and their kernel frames, lazy binding)')
    print('largest frames of ours: %s (limit %d B)' % (
        ', '.join('%s %d B' % (f.name, f.frame) for f in biggest), args.max_frame))
    print('libraries called: %s' % ', '.join(libs.short(i) for i in sorted(used) if i > 0))
    if jumpers:
        for so, f in jumpers:
            print('library frame larger than the %d B guard: %s %s%s %d B (%s)' % (
                guard, so, '' if f.exact else '~', f.name, f.frame,
                framescan.protection(f, guard)))
    else:
        print('no frame in those libraries exceeds the %s KiB guard (tools/framescan.py)'
              % kib_num(guard))
    if args.verbose:
        print('\nlibrary calls and allowances:')
        names = sorted({n[4:] for th in results for n in th['reach'] if n.startswith('ext:')})
        for n in names:
            b, so, how, _ = libs.allowance(n)
            print('  %-32s %7d  %-20s %s' % (n, b, so or '?', how))
    for w in warnings:
        print('warning: %s' % w)
    for f in failures:
        print('FAIL: %s' % f)
    print('stackcheck: %s (%d threads, %d functions, %d warnings)' % (
        'FAIL' if failures else 'ok', len(results), len(funcs), len(warnings)))
    return 1 if failures else 0


def host_minsigstksz():
    """The kernel's signal frame size on this CPU (AT_MINSIGSTKSZ), or 0."""
    try:
        out = subprocess.run(['/bin/true'], env={'LD_SHOW_AUXV': '1'},
                             stdout=subprocess.PIPE, text=True).stdout
        m = re.search(r'AT_MINSIGSTKSZ:\s+(\d+)', out)
        return int(m.group(1)) if m else 0
    except OSError:
        return 0


if __name__ == '__main__':
    sys.exit(main())
