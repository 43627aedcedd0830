/**
 * The layering of docs/architecture.md, checked on every import of src/ so that it cannot erode:
 *
 *   cli → http → api | pages | streaming | federation | jobs → domain → infra → db → config
 *                 (convert is used by api, streaming and federation, and itself uses domain)
 *
 * - an import may point down, never up, and never sideways between the siblings of one layer (api
 *   and streaming share nothing but what lies below them);
 * - inside src/domain, the areas (accounts, statuses, timelines, …; each file directly in
 *   src/domain is a node of its own) import each other without cycles. Type-only imports are left
 *   out of the cycle check (a shared record type is not a dependency on behaviour), not out of the
 *   layer check.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** Each layer and the layers it may import (besides itself). */
const LAYERS: Record<string, readonly string[]> = {
  config: [],
  db: ['config'],
  infra: ['db', 'config'],
  domain: ['infra', 'db', 'config'],
  convert: ['domain', 'infra', 'db', 'config'],
  api: ['convert', 'domain', 'infra', 'db', 'config'],
  streaming: ['convert', 'domain', 'infra', 'db', 'config'],
  federation: ['convert', 'domain', 'infra', 'db', 'config'],
  pages: ['domain', 'infra', 'db', 'config'],
  jobs: ['domain', 'infra', 'db', 'config'],
  http: ['api', 'pages', 'streaming', 'federation', 'jobs', 'convert', 'domain', 'infra', 'db', 'config'],
  cli: [
    'http',
    'api',
    'pages',
    'streaming',
    'federation',
    'jobs',
    'convert',
    'domain',
    'infra',
    'db',
    'config',
  ],
};

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of a file: static (`import … from`, `export … from`) and dynamic (`import()`). */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  const statics = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'(\.{1,2}\/[^']+)'/gm;
  for (const m of text.matchAll(statics)) {
    const clause = m[3] ?? '';
    // `import { type A, type B }` is type-only too.
    const named = /^\{([^}]*)\}$/.exec(clause.trim());
    const allTyped =
      named !== null &&
      named[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => s.startsWith('type '));
    found.push({ from: file, to: resolve(dirname(file), m[4]!), typeOnly: Boolean(m[2]) || allTyped });
  }
  for (const m of text.matchAll(/import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) {
    found.push({ from: file, to: resolve(dirname(file), m[1]!), typeOnly: false });
  }
  return found;
}

const rel = (path: string) => relative(ROOT, path).split(sep).join('/');

/** `src/<layer>/…` → layer; anything outside src/ (package.json) is no layer. */
function layerOf(path: string): string | undefined {
  const parts = relative(SRC, path).split(sep);
  if (parts[0] === '..' || parts.length < 2) return undefined;
  return parts[0];
}

/** `src/domain/<area>/…` → area; a file directly in src/domain is a node of its own. */
function domainNode(path: string): string {
  const parts = relative(join(SRC, 'domain'), path).split(sep);
  return parts.length === 1 ? parts[0]! : `${parts[0]}/`;
}

const imports = sourceFiles(SRC).flatMap(importsOf);

describe('architecture', () => {
  it('finds the source and its imports', () => {
    assert.ok(imports.length > 200, `only ${imports.length} imports found: the scan is broken`);
    for (const layer of new Set(imports.map((i) => layerOf(i.from)))) {
      assert.ok(
        layer !== undefined && layer in LAYERS,
        `src/${layer} is not a layer of docs/architecture.md`,
      );
    }
  });

  it('imports point down, never up or sideways between layers', () => {
    const wrong = imports.flatMap(({ from, to }) => {
      const a = layerOf(from)!;
      const b = layerOf(to);
      if (b === undefined || a === b || LAYERS[a]?.includes(b)) return [];
      return [`${rel(from)} → ${rel(to)} (${a} may not import ${b})`];
    });
    assert.deepEqual(wrong, []);
  });

  it('the areas of src/domain import each other without cycles', () => {
    const edges = new Map<string, Map<string, string>>();
    for (const { from, to, typeOnly } of imports) {
      if (typeOnly || layerOf(from) !== 'domain' || layerOf(to) !== 'domain') continue;
      const a = domainNode(from);
      const b = domainNode(to);
      if (a === b) continue;
      if (!edges.has(a)) edges.set(a, new Map());
      // One example import per edge, to say where a cycle comes from.
      if (!edges.get(a)!.has(b)) edges.get(a)!.set(b, `${rel(from)} → ${rel(to)}`);
    }
    const cycles = stronglyConnected(edges).filter((group) => group.length > 1);
    const described = cycles.map((group) =>
      group.flatMap((a) =>
        [...(edges.get(a) ?? new Map<string, string>())]
          .filter(([b]) => group.includes(b))
          .map(([, example]) => example),
      ),
    );
    assert.deepEqual(described, []);
  });
});

/** Tarjan's algorithm: the strongly connected components of a directed graph. */
function stronglyConnected(edges: Map<string, Map<string, string>>): string[][] {
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      groups.push(group.sort());
    }
  };
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return groups;
}
