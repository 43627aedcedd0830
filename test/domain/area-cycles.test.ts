import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { test } from 'node:test';

/**
 * The areas of src/domain (each folder, and each file directly in src/domain) import each other
 * without cycles; `import type` and all-type `import { type … }` do not count (they vanish at
 * run time).
 */
const root = normalize(join(import.meta.dirname, '../../src/domain'));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const areaOf = (file: string) => relative(root, file).split(sep)[0]!;

function areaGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const importRe = /^(?:import|export)\s+(type\s+)?([\s\S]*?)\s+from\s+'([^']+)'/gm;
  for (const file of files(root)) {
    for (const m of readFileSync(file, 'utf8').matchAll(importRe)) {
      const [, typeOnly, names = '', spec = ''] = m;
      if (typeOnly || !spec.startsWith('.')) continue;
      const braces = /^\{([\s\S]*)\}$/.exec(names.trim());
      const members = braces?.[1]
        ?.split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      if (members && members.length > 0 && members.every((n) => n.startsWith('type '))) continue;
      const target = normalize(join(dirname(file), spec));
      if (!target.startsWith(root + sep)) continue;
      const from = areaOf(file);
      const to = areaOf(target);
      if (from === to) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      graph.get(from)!.set(to, `${relative(root, file)} → ${spec}`);
    }
  }
  return graph;
}

test('the areas of src/domain import each other without cycles', () => {
  const graph = areaGraph();
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[] = [];
  const visit = (area: string) => {
    state.set(area, 'open');
    path.push(area);
    for (const [next, via] of graph.get(area) ?? []) {
      if (state.get(next) === 'open')
        cycles.push(`${[...path.slice(path.indexOf(next)), next].join(' → ')} (${via})`);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(area, 'done');
  };
  for (const area of graph.keys()) if (!state.has(area)) visit(area);
  assert.deepEqual(cycles, []);
});
