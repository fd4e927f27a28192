#!/usr/bin/env python3
"""Bottom-up table of `tessera serve`'s CPU from `perf script -F comm,tid,ip,sym,dso` output.

Usage: python3 test/bench/gateway-perf-classify.py <perf.txt> [µs per request]
(test/bench/gateway-perf-profile.ts writes perf.txt.) Each sample is classified once:
  - threads other than the event loops (MainThread, WorkerThread): GC helpers, compiler, libuv pool;
  - a kernel leaf: kernel time, by the libc syscall wrapper on the stack and the JS that called it;
  - GC frames on an event loop;
  - otherwise by the nearest JS frame's file (gateway file, undici, node:http, ...), with
    JSON.parse/JSON.stringify/RegExp/promise builtins split out.
Then "who asked": every sample charged to the outermost gateway frame on its stack.
perf's JIT names come from /tmp/perf-<pid>.map, where V8 may reuse a code address: a frame named
after a tsx function between Socket._write/_writev and node's WriteString/Writev is node's write
path (writeGeneric); it is reported as such.
"""
import collections
import re
import sys

LOOPS = ('MainThread', 'WorkerThread')


def read(path):
    samples, cur = [], None
    for line in open(path, errors='replace'):
        if not line.strip():
            if cur:
                samples.append(cur)
            cur = None
            continue
        if not line[0].isspace():
            cur = {'thread': line.split()[0], 'frames': []}
            continue
        parts = line.strip().split(' ', 1)
        if len(parts) == 2 and cur is not None:
            m = re.match(r'(.*) \(([^()]*)\)$', parts[1])
            cur['frames'].append((m.group(1), m.group(2)) if m else (parts[1], ''))
    if cur:
        samples.append(cur)
    return samples


def owner(sym):
    if 'lambdas/inference/' in sym:
        f = re.search(r'lambdas/inference/([\w/.-]+)\.ts', sym)
        return 'gateway ' + (f.group(1) if f else '?')
    if '/lib/' in sym and 'node_modules' not in sym:
        return 'tessera lib'
    if 'undici' in sym:
        return 'undici (client to the upstream)'
    if re.search(r'node:_http_(server|common|incoming)', sym):
        return 'node:http server/parser'
    if 'node:_http_outgoing' in sym:
        return 'node:http outgoing (answer)'
    if 'tsx/dist' in sym or re.search(r'node:(net|stream|internal/stream)', sym):
        return 'node net/streams (write path)'
    if re.search(r'node:(events|internal/event_target|internal/abort_controller)', sym):
        return 'node events/AbortController'
    if re.search(r'task_queues|node:internal/timers|async_hooks', sym):
        return 'node task queue/timers'
    if 'node_modules/zod' in sym:
        return 'zod'
    if 'gpt-tokenizer' in sym:
        return 'gpt-tokenizer'
    m = re.search(r'(node:[\w/_-]+)', sym)
    return 'node ' + m.group(1) if m else 'other JS'


def native(sym):
    if 'JsonParse' in sym or 'JsonParser' in sym:
        return 'JSON.parse'
    if 'JsonStringif' in sym:
        return 'JSON.stringify'
    if 'RegExp' in sym or 'irregexp' in sym.lower():
        return 'RegExp'
    return None


def main():
    samples = read(sys.argv[1])
    per = float(sys.argv[2]) if len(sys.argv) > 2 else None
    n = len(samples)
    what, asked, kernel = collections.Counter(), collections.Counter(), collections.Counter()
    for s in samples:
        fr = s['frames']
        if not fr:
            continue
        syms = [f[0] for f in fr]
        joined = ' '.join(syms)
        gw = [x for x in syms if 'lambdas/inference/' in x]
        asked['gateway: ' + re.sub(r'^JS:\S+ |file:///[^ ]*?lambdas/inference/', '', gw[-1]) if gw else 'outside gateway frames'] += 1
        if s['thread'] not in LOOPS:
            gc = re.search(r'Scaven|Heap|Mark|Sweep|Evacuat', joined)
            what['GC (helper threads)' if gc else 'compiler (helper threads)' if re.search(r'compiler|Turbofan|Maglev', joined) else 'other thread ' + s['thread']] += 1
            continue
        if fr[0][1].startswith('[kernel'):
            call = next((x for x in syms if x.startswith('__GI___') or x in ('read', 'write', 'writev')), 'other')
            js = next((x for x in syms if x.startswith('JS:')), '')
            what['kernel'] += 1
            kernel[f'{call} <- {owner(js)}' if js else call] += 1
            continue
        if re.search(r'Scavenger|Heap::CollectGarbage|MarkCompact|Heap::PerformGarbageCollection', joined):
            what['GC (event loop)'] += 1
            continue
        js = next((i for i, x in enumerate(syms) if x.startswith('JS:')), None)
        kind = next((native(x) for x in syms[: js if js is not None else len(syms)] if native(x)), None)
        who = owner(syms[js]) if js is not None else 'node C++/libuv (no JS on the stack)'
        if kind:
            what[kind] += 1
        elif re.search(r'Promise|Microtask|AsyncFunction|Await|Generator', syms[0]):
            what['promise/async builtins'] += 1
        else:
            what['JS and V8 runtime of ' + who] += 1

    def show(title, c, top=40):
        print(f'\n## {title}')
        for k, v in c.most_common(top):
            print(f'{100 * v / n:6.2f}%' + (f'  {per * v / n:6.1f} µs' if per else '') + f'  {k}')

    print(f'{n} samples')
    show('where (self, bottom-up)', what)
    show('kernel, by syscall <- the JS that made it', kernel, 15)
    show('who asked (outermost gateway frame; kernel and natives included)', asked, 30)


if __name__ == '__main__':
    main()
