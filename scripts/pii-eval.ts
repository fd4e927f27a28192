/**
 * Precision, recall and F1 of the gateway's PII redaction over test/fixtures/pii-labelled.jsonl
 * (`npm run eval:pii`). Span-level: a detection counts as a true positive only when its label AND
 * its exact text equal one expected entry of that line (`pii[i]` / `values[i]`); a detection with
 * the right label but a wrong span (a phone number missing its country code, a card cut short) is
 * both a false positive and a false negative. The label-level figure (multiset of labels per
 * line, spans ignored) is printed too, for comparison.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findPii } from '../lambdas/inference/guardrails.js';

export const FIXTURE = fileURLToPath(new URL('../test/fixtures/pii-labelled.jsonl', import.meta.url));

export interface LabelledLine { text: string; pii: string[]; values?: string[] }
export interface Score { tp: number; fp: number; fn: number; precision: number; recall: number; f1: number }
export interface Miss { line: number; label: string; value: string; text: string }
export interface Evaluation { overall: Score; perLabel: Record<string, Score>; labelLevel: Score; falsePositives: Miss[]; falseNegatives: Miss[]; lines: number; positives: number }

export function readLabelled(path = FIXTURE): LabelledLine[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LabelledLine);
}

function score(tp: number, fp: number, fn: number): Score {
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  return { tp, fp, fn, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
}

export function evaluate(lines: LabelledLine[] = readLabelled()): Evaluation {
  const counts: Record<string, { tp: number; fp: number; fn: number }> = {};
  const bump = (label: string, k: 'tp' | 'fp' | 'fn') => { (counts[label] ??= { tp: 0, fp: 0, fn: 0 })[k]++; };
  const falsePositives: Miss[] = [];
  const falseNegatives: Miss[] = [];
  let ltp = 0, lfp = 0, lfn = 0;
  lines.forEach((line, i) => {
    const expected = line.pii.map((label, j) => ({ label, value: line.values?.[j] ?? '' }));
    const found = findPii(line.text).map((m) => ({ label: m.label as string, value: line.text.slice(m.start, m.end) }));
    const open = [...expected];
    for (const f of found) {
      const k = open.findIndex((e) => e.label === f.label && e.value === f.value);
      if (k >= 0) { open.splice(k, 1); bump(f.label, 'tp'); } else { bump(f.label, 'fp'); falsePositives.push({ line: i + 1, ...f, text: line.text }); }
    }
    for (const e of open) { bump(e.label, 'fn'); falseNegatives.push({ line: i + 1, ...e, text: line.text }); }
    // label level: multisets of labels, spans ignored
    const want = [...line.pii];
    for (const f of found) { const k = want.indexOf(f.label); if (k >= 0) { want.splice(k, 1); ltp++; } else lfp++; }
    lfn += want.length;
  });
  const perLabel = Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)).map(([l, c]) => [l, score(c.tp, c.fp, c.fn)]));
  const sum = (k: 'tp' | 'fp' | 'fn') => Object.values(counts).reduce((n, c) => n + c[k], 0);
  return { overall: score(sum('tp'), sum('fp'), sum('fn')), perLabel, labelLevel: score(ltp, lfp, lfn), falsePositives, falseNegatives, lines: lines.length, positives: lines.filter((l) => l.pii.length).length };
}

function main() {
  const e = evaluate();
  const f = (x: number) => x.toFixed(3);
  const row = (name: string, s: Score) => `${name.padEnd(13)} ${f(s.precision)}     ${f(s.recall)}  ${f(s.f1)}  ${String(s.tp).padStart(4)} ${String(s.fp).padStart(4)} ${String(s.fn).padStart(4)}`;
  console.log(`PII redaction, span-level, over ${e.lines} lines (${e.positives} with PII, ${e.lines - e.positives} without)`);
  console.log('label         precision recall F1       tp   fp   fn');
  for (const [label, s] of Object.entries(e.perLabel)) console.log(row(label, s));
  console.log(row('overall', e.overall));
  console.log(row('label-level', e.labelLevel));
  const show = (title: string, ms: Miss[]) => {
    console.log(`\n${title} (${ms.length})`);
    for (const m of ms) console.log(`  line ${m.line} ${m.label} ${JSON.stringify(m.value)}  in ${JSON.stringify(m.text.length > 110 ? `${m.text.slice(0, 107)}...` : m.text)}`);
  };
  show('false positives', e.falsePositives);
  show('false negatives', e.falseNegatives);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
