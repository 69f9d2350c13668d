import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { ROOT } from '../support/built-client.ts';

/** The README and every page of docs/: what a reader follows from one to another. */
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');

function anchorsOf(page: string): Set<string> {
  const text = readFileSync(join(ROOT, page), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1])));
}

test('every relative link of the README and docs/ names a file that exists, and a heading of it', () => {
  const broken: string[] = [];
  for (const page of PAGES) {
    const text = readFileSync(join(ROOT, page), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path, hash] = target.split('#');
      const file = path === '' ? page : relative(ROOT, normalize(join(ROOT, dirname(page), path)));
      if (!existsSync(join(ROOT, file))) broken.push(`${page}: ${target} (no ${file})`);
      else if (hash !== undefined && file.endsWith('.md') && !anchorsOf(file).has(hash)) broken.push(`${page}: ${target} (no heading #${hash} in ${file})`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the README links every page of docs/ (rows for the decisions table waiting to be merged aside)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const linked = new Set([...readme.matchAll(/\]\((docs\/[^)#]+\.md)/g)].map((m) => m[1]));
  assert.deepEqual(PAGES.filter((p) => p.startsWith('docs/') && !p.startsWith('docs/decisions-new-') && !linked.has(p)), []);
});
