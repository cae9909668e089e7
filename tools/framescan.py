#!/usr/bin/env python3
"""framescan: the largest stack frames of an ELF binary or shared library.

The bug report that started fbvm found a 3 MB frame by reading a core file
and the disassembly by hand. This does it for a whole object: it scans
`objdump -d` for stack reservations and reports the largest frames by
function, and whether each is probed page by page (gcc's
-fstack-clash-protection) or could jump over a guard region.

What counts as a reservation (x86-64, gcc/clang output):
  sub $N,%rsp                      (also add $-N,%rsp, which gcc emits for 128)
  sub $0x1000,%rsp; orq $0x0,(%rsp) repeated   unrolled stack-clash probes
  lea -N(%rsp),%r11; loop { sub $0x1000,%rsp; orq $0x0,(%rsp);
                            cmp %r11,%rsp; jne }  a stack-clash probe loop
  sub %reg,%rsp                    a dynamically sized frame (alloca, VLA)

Function boundaries come from .eh_frame (every function compiled with unwind
tables has an FDE, even in a stripped library), which also gives the frame
size exactly where the CFA is %rsp-based. Names come from .symtab; a stripped
library has only .dynsym, and a function without an exported symbol of its
own is named after the nearest preceding one ("foo+0x1a0", marked "~"): that
attribution is approximate.

Frame = return address + registers pushed in the prologue + reservation, or
the largest %rsp-based CFA offset from .eh_frame, whichever is larger.

A frame larger than the guard region (STACK_GUARD_BYTES) is flagged: unless
the function probes its pages (stack-clash protection, shown per function),
its first store can land past the guard, in whatever is mapped below.

Used as a module by tools/stackcheck.py (analyze(), Linked), and as a
command; --entry also prints the deepest chain of direct calls from a
function across the files given:
  tools/framescan.py [--top N] [--guard BYTES] [--entry SYM]... [--cache DIR] FILE...
"""

import argparse
import bisect
import json
import os
import re
import signal
import subprocess
import sys

PAGE = 4096
# stack/stack_sizes.h STACK_GUARD_BYTES; stackcheck passes the parsed value.
DEFAULT_GUARD = 64 * 1024
CACHE_VERSION = 7

_INSN = re.compile(r'^\s*([0-9a-f]+):\s+(.*)$')
_LABEL = re.compile(r'^([0-9a-f]+) <(.+)>:$')
_IMM_RSP = re.compile(r'^(sub|add)q?\s+\$0x([0-9a-f]+),%rsp$')
_REG_RSP = re.compile(r'^subq?\s+%(r\w+),%rsp$')
_LEA_R11 = re.compile(r'^lea\s+-0x([0-9a-f]+)\(%rsp\),%r11$')
_SUB_R11 = re.compile(r'^subq?\s+\$0x([0-9a-f]+),%r11$')
_PROBE = re.compile(r'^orq?\s+\$0x0,(?:0x[0-9a-f]+)?\(%rsp\)$')
_CMP_R11 = re.compile(r'^cmp\s+%r11,%rsp$')
_PUSH = re.compile(r'^push\s+%r\w+$')
_DIRECT = re.compile(r'^(call|jmp)q?\s+([0-9a-f]+) <([^>]+)>$')
_GOTCALL = re.compile(r'^(call|jmp)q?\s+\*.*#\s*[0-9a-f]+ <([^>]+)>$')
_INDIRECT = re.compile(r'^(call|jmp)q?\s+\*')
_FDE = re.compile(r'FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)')
_CFA_ROW = re.compile(r'^([0-9a-f]+) (rsp|rbp|r\w+|exp)\+?(\d*)')
_PREFIXES = ('bnd ', 'notrack ', 'rex.W ', 'data16 ', 'cs ', 'ds ', 'lock ', 'rep ', 'repz ')


def _run(args):
    # readelf exits 1 over things it merely warns about (a .gnu_debuglink
    # file it cannot find) after printing everything: only no output is fatal.
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode and not r.stdout:
        raise RuntimeError('%s failed: %s' % (' '.join(args), r.stderr.strip()))
    return r.stdout


def _strip_version(name):
    return name.split('@', 1)[0]


def _symbols(path):
    """FUNC symbols as (addr, size, name, from_symtab), one per address, sorted;
    {other name: addr} for further names at the same address; and whether
    the object has a .symtab at all."""
    out = _run(['readelf', '-W', '--syms', '--dyn-syms', path])
    syms, names = {}, {}
    table = None
    has_symtab = False
    for line in out.splitlines():
        if line.startswith("Symbol table '"):
            table = line.split("'")[1]
            has_symtab |= table == '.symtab'
            continue
        f = line.split()
        if len(f) < 8 or not f[0].endswith(':') or f[3] not in ('FUNC', 'IFUNC'):
            continue
        if f[6] == 'UND':
            continue
        addr = int(f[1], 16)
        size = int(f[2], 0) if f[2].isdigit() or f[2].startswith('0x') else 0
        name = _strip_version(f[7])
        names.setdefault(name, addr)
        # Prefer .symtab names (they include static functions).
        if addr not in syms or (table == '.symtab' and not syms[addr][3]):
            syms[addr] = (addr, size, name, table == '.symtab')
    same = {n: a for n, a in names.items() if syms[a][2] != n}
    return sorted(syms.values()), same, has_symtab


def _fdes(path):
    """[(start, end, max %rsp-based CFA offset, uses frame pointer)] from .eh_frame."""
    out = _run(['readelf', '-wF', path])
    fdes = []
    cur = None
    for line in out.splitlines():
        m = _FDE.search(line)
        if m:
            cur = [int(m.group(1), 16), int(m.group(2), 16), 8, False]
            if cur[1] > cur[0]:
                fdes.append(cur)
            continue
        if cur is None:
            continue
        m = _CFA_ROW.match(line)
        if m:
            reg, off = m.group(2), m.group(3)
            if reg == 'rsp' and off:
                cur[2] = max(cur[2], int(off))
            elif reg == 'rbp':
                cur[3] = True
    fdes.sort()
    return [tuple(f) for f in fdes]


class Function:
    __slots__ = ('start', 'end', 'name', 'exact', 'pushes', 'reservation', 'how',
                 'probed', 'dynamic', 'cfa', 'fp', 'calls', 'jumps', 'externals', 'indirect',
                 '_in_prologue')

    def __init__(self, start, end, name, exact):
        self.start, self.end, self.name, self.exact = start, end, name, exact
        self.pushes = 0
        self.reservation = 0
        self.how = ''
        self.probed = False
        self.dynamic = False
        self.cfa = 8
        self.fp = False
        self.calls = set()       # start addresses of functions in this object
        self.jumps = set()       # tail calls and jumps to .cold parts: no frame of ours
        self.externals = set()   # names called through the PLT/GOT
        self.indirect = 0        # call sites through a register or memory
        self._in_prologue = True

    @property
    def frame(self):
        return max(self.cfa, 8 + 8 * self.pushes + self.reservation)

    def as_dict(self):
        return {k: (sorted(getattr(self, k)) if isinstance(getattr(self, k), set)
                    else getattr(self, k))
                for k in self.__slots__ if not k.startswith('_')}


class _Run:
    """Stack adjustments between two calls/returns: one reservation."""

    def __init__(self):
        self.total = 0
        self.parts = []
        self.probes = 0
        self.loop_from = None   # (total before the loop, N) after lea -N(%rsp),%r11
        self.r11_from_rsp = False

    def text(self):
        return '; '.join(self.parts)


def _finish_run(fn, run):
    if run.total > fn.reservation:
        fn.reservation = run.total
        fn.how = run.text()
        fn.probed = run.probes > 0 or any('probe loop' in p for p in run.parts)


def _scan(fn, insns):
    run = _Run()
    for addr, text in insns:
        for p in _PREFIXES:
            if text.startswith(p):
                text = text[len(p):]
        m = _IMM_RSP.match(text)
        if m:
            imm = int(m.group(2), 16)
            if m.group(1) == 'add':
                if imm < 1 << 63:       # releasing the frame
                    _finish_run(fn, run)
                    run = _Run()
                    continue
                imm = (1 << 64) - imm
                run.parts.append('add $-%#x,%%rsp' % imm)
            elif imm >= 1 << 63:        # sub of a negative: a release
                continue
            elif not (imm == PAGE and run.loop_from):
                run.parts.append('sub $%#x,%%rsp' % imm)
            run.total += imm
            continue
        if _PROBE.match(text):
            run.probes += 1
            continue
        m = _LEA_R11.match(text)
        if m:
            run.loop_from = (run.total, int(m.group(1), 16))
            continue
        if text == 'mov    %rsp,%r11':
            run.r11_from_rsp = True
            continue
        m = _SUB_R11.match(text)
        if m and run.r11_from_rsp:
            run.loop_from = (run.total, int(m.group(1), 16))
            continue
        if _CMP_R11.match(text) and run.loop_from:
            before, n = run.loop_from
            run.total = before + n
            run.parts.append('probe loop to -%#x(%%rsp)' % n)
            run.loop_from = None
            continue
        m = _REG_RSP.match(text)
        if m:
            fn.dynamic = True
            continue
        if fn._in_prologue and _PUSH.match(text):
            fn.pushes += 1
            continue
        if text.startswith(('call', 'ret', 'leave')) or text.startswith('jmp'):
            fn._in_prologue = False
            if not (text.startswith('jmp') and run.loop_from):
                _finish_run(fn, run)
                run = _Run()
        m = _DIRECT.match(text)
        if m:
            target, label = int(m.group(2), 16), m.group(3)
            if '@plt' in label:
                fn.externals.add(_strip_version(label.split('@plt')[0]))
            elif not (fn.start <= target < fn.end):
                # Only targets that start a function are kept (below): a
                # jmp there is a tail call or a jump to a .cold part.
                (fn.calls if m.group(1) == 'call' else fn.jumps).add(target)
            continue
        m = _GOTCALL.match(text)
        if m and '+' not in m.group(2):
            # call *slot(%rip) whose slot objdump names exactly: a GOT entry
            # (-fno-plt). "sym+0x10" is only the nearest symbol to a pointer
            # in data: an indirect call, counted below.
            fn.externals.add(_strip_version(m.group(2)))
            continue
        if _INDIRECT.match(text) and text.startswith('call'):
            fn.indirect += 1
    _finish_run(fn, run)


def _cache_path(cache_dir, path):
    st = os.stat(path)
    key = '%s-%x-%x' % (os.path.basename(path), st.st_size, int(st.st_mtime))
    return os.path.join(cache_dir, key + '.json')


def analyze(path, cache_dir=None):
    """Every function of `path`: {'path', 'has_symtab', 'functions': [Function]}."""
    path = os.path.realpath(path)
    cache = _cache_path(cache_dir, path) if cache_dir else None
    if cache and os.path.exists(cache):
        try:
            with open(cache) as f:
                data = json.load(f)
            if data.get('version') == CACHE_VERSION:
                return _from_json(data)
        except (OSError, ValueError):
            pass
    syms, same_addr, has_symtab = _symbols(path)
    sym_addrs = [s[0] for s in syms]
    fdes = _fdes(path)

    def name_at(addr):
        i = bisect.bisect_right(sym_addrs, addr) - 1
        if i < 0:
            return '0x%x' % addr, False
        a, size, name, _ = syms[i]
        if a == addr:
            return name, True
        return '%s+%#x' % (name, addr - a), False

    funcs = []
    for start, end, cfa, fp in fdes:
        name, exact = name_at(start)
        fn = Function(start, end, name, exact)
        fn.cfa, fn.fp = cfa, fp
        funcs.append(fn)
    # Symbols without an FDE (hand-written assembly): their own function,
    # up to their size or the next known start.
    covered = [f.start for f in funcs]
    # Further names of a function: at its address, or inside its FDE.
    aliases = dict(same_addr)
    for a, size, name, _ in syms:
        i = bisect.bisect_right(covered, a) - 1
        if i >= 0 and funcs[i].start <= a < funcs[i].end:
            if funcs[i].start != a:
                aliases.setdefault(name, funcs[i].start)
            continue
        funcs.append(Function(a, a + max(size, 1), name, True))
    funcs.sort(key=lambda f: f.start)
    starts = [f.start for f in funcs]

    def owner(addr):
        i = bisect.bisect_right(starts, addr) - 1
        if i >= 0 and addr < funcs[i].end:
            return funcs[i]
        return None

    dis = subprocess.Popen(['objdump', '-d', '--no-show-raw-insn', '-w', path],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    cur, insns = None, []
    for line in dis.stdout:
        m = _INSN.match(line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        fn = owner(addr)
        if fn is not cur:
            if cur is not None:
                _scan(cur, insns)
            cur, insns = fn, []
        if fn is not None:
            insns.append((addr, m.group(2).strip()))
    if cur is not None:
        _scan(cur, insns)
    dis.wait()
    # Direct calls land on function starts; keep only those.
    valid = set(starts)
    for fn in funcs:
        fn.calls = {t for t in fn.calls if t in valid}
        fn.jumps = {t for t in fn.jumps if t in valid}
    result = {'path': path, 'has_symtab': has_symtab, 'functions': funcs, 'aliases': aliases}
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = cache + '.tmp%d' % os.getpid()
        with open(tmp, 'w') as f:
            json.dump({'version': CACHE_VERSION, 'path': path, 'has_symtab': has_symtab,
                       'aliases': aliases, 'functions': [fn.as_dict() for fn in funcs]}, f)
        os.replace(tmp, cache)
    return result


def _from_json(data):
    funcs = []
    for d in data['functions']:
        fn = Function(d['start'], d['end'], d['name'], d['exact'])
        for k, v in d.items():
            setattr(fn, k, set(v) if k in ('calls', 'jumps', 'externals') else v)
        funcs.append(fn)
    return {'path': data['path'], 'has_symtab': data['has_symtab'], 'functions': funcs,
            'aliases': data.get('aliases', {})}


def by_name(obj):
    """name -> Function, for the exactly named functions of an analysis."""
    names = {}
    by_start = {}
    for fn in obj['functions']:
        by_start[fn.start] = fn
        if fn.exact and fn.name not in names:
            names[fn.name] = fn
    for name, start in obj.get('aliases', {}).items():
        if name not in names and start in by_start:
            names[name] = by_start[start]
    return names


class Linked:
    """Several analysed objects as the dynamic linker sees them: a call to an
    exported name (through the PLT, even inside one library, which is how
    ELF allows interposition) goes to the first object defining it, the
    caller's own object first."""

    def __init__(self, objs, prune=()):
        self.objs = objs
        self.names = [by_name(o) for o in objs]
        self.starts = [{f.start: f for f in o['functions']} for o in objs]
        self.memo = {}
        # Functions known dead for this program: walks do not enter them.
        self.pruned = {(i, names[p].start) for i, names in enumerate(self.names)
                       for p in prune if p in names}

    def callees(self, i, fn):
        """[(object index, Function)] fn calls directly, and names not found."""
        out, missing = [], []
        for t in fn.calls:
            if t in self.starts[i]:
                out.append((i, self.starts[i][t]))
        for name in fn.externals:
            hit = self.lookup(name, i)
            if hit is not None:
                out.append(hit)
            elif not name.startswith('*ABS*'):
                # *ABS*+0x...: an IRELATIVE PLT slot, an IFUNC-selected
                # string or memory routine of the same library (leaf asm).
                missing.append(name)
        return [c for c in out if (c[0], c[1].start) not in self.pruned], missing

    def lookup(self, name, prefer=None):
        order = ([prefer] if prefer is not None else []) + list(range(len(self.objs)))
        for i in order:
            fn = self.names[i].get(name)
            if fn is not None:
                return i, fn
        return None

    def worst(self, i, fn):
        """Deepest chain of direct calls from fn in object i: (bytes, [(i, Function)],
        recursion seen, external names not found in any object). Indirect
        calls are not followed (the caller adds those)."""
        on_path = set()
        recursion, missing = set(), set()

        def visit(i, fn):
            key = (i, fn.start)
            if key in self.memo:
                return self.memo[key]
            if key in on_path:
                recursion.add(fn.name)
                return (0, [])
            on_path.add(key)
            best = (0, [])
            callees, gone = self.callees(i, fn)
            missing.update(gone)
            for j, callee in callees:
                r = visit(j, callee)
                if r[0] > best[0]:
                    best = r
            res = (fn.frame + best[0], [(i, fn)] + best[1])
            # A tail call has released our frame; a .cold part's CFA already
            # includes it.
            for t in fn.jumps:
                target = self.starts[i].get(t)
                if target is not None and (i, t) not in self.pruned:
                    r = visit(i, target)
                    if r[0] > res[0]:
                        res = r
            on_path.discard(key)
            # Memoized even when a cycle was cut below: the depth is then that
            # of one trip round the cycle, and the cycle is reported.
            self.memo[key] = res
            return res

        sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
        total, chain = visit(i, fn)
        return total, chain, sorted(recursion), sorted(missing)


def fmt_bytes(n):
    if n >= 1024 * 1024:
        return '%.1f MiB' % (n / 1048576)
    if n >= 1024:
        return '%.1f KiB' % (n / 1024)
    return '%d B' % n


def protection(fn, guard):
    """How a frame stands against a guard region of `guard` bytes."""
    if fn.reservation <= PAGE:
        return 'fits in a page'
    if fn.probed:
        return 'probed (stack-clash protected)'
    if fn.frame > guard:
        return 'UNPROBED: can jump past the guard'
    return 'unprobed, smaller than the guard'


def print_table(obj, top, guard, out=sys.stdout):
    funcs = sorted(obj['functions'], key=lambda f: -f.frame)
    path = obj['path']
    note = '' if obj['has_symtab'] else \
        ' (stripped: names from .dynsym; "~" = nearest preceding exported symbol, approximate)'
    big = [f for f in funcs if f.frame > guard]
    dyn = sum(1 for f in funcs if f.dynamic)
    print('%s: %d functions, %d frames > %s guard, %d with dynamic frames%s'
          % (path, len(funcs), len(big), fmt_bytes(guard), dyn, note), file=out)
    print('  %10s %10s  %-40s %-34s %s' % ('frame', 'reserve', 'function', 'protection',
                                          'reservation'), file=out)
    shown = funcs[:top] + [f for f in big if f not in funcs[:top]]
    for f in shown:
        flag = ' <== FRAME > GUARD' if f.frame > guard else ''
        print('  %10d %10d  %-40s %-34s %s%s%s'
              % (f.frame, f.reservation, ('' if f.exact else '~') + f.name[:39],
                 protection(f, guard), f.how or '-', ' +dynamic' if f.dynamic else '', flag),
              file=out)


def main(argv=None):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('files', nargs='+', help='ELF executables or shared libraries')
    ap.add_argument('--top', type=int, default=10, help='frames to list per file (default 10)')
    ap.add_argument('--guard', type=int, default=DEFAULT_GUARD,
                    help='guard region in bytes (default %d, STACK_GUARD_BYTES)' % DEFAULT_GUARD)
    ap.add_argument('--entry', action='append', default=[],
                    help='also print the deepest direct-call path from this function')
    ap.add_argument('--prune', action='append', default=[],
                    help='do not walk into this function (a path dead in the program, '
                         'e.g. __assert_fail)')
    ap.add_argument('--cache', help='directory to cache analyses in')
    ap.add_argument('--json', action='store_true', help='print the analyses as JSON')
    args = ap.parse_args(argv)

    objs = [analyze(p, args.cache) for p in args.files]
    linked = Linked(objs, args.prune)
    for i, obj in enumerate(objs):
        if args.json:
            json.dump({'path': obj['path'], 'functions': [f.as_dict() for f in obj['functions']]},
                      sys.stdout)
            print()
            continue
        print_table(obj, args.top, args.guard)
        for e in args.entry:
            fn = linked.names[i].get(e)
            if fn is None:
                continue
            total, chain, rec, missing = linked.worst(i, fn)
            print('  deepest direct-call path from %s (indirect calls not followed): %d bytes'
                  % (e, total))
            for j, f in chain:
                where = '' if j == i else '  [%s]' % os.path.basename(objs[j]['path'])
                print('    %8d  %s%s%s' % (f.frame, '' if f.exact else '~', f.name, where))
            if rec:
                print('    recursion cut at: %s' % ', '.join(rec))
        print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
