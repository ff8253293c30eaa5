// Importing the client (got and its dependencies) makes no Intl formatter: the first one maps
// ICU's locale data into the process, about 7 MB of resident memory in every idle service
// (patches/README.md). A child process, so that nothing this test runner loaded counts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { promisify } from 'node:util';

const PROBE = `
const made = [];
for (const name of ['Collator', 'DateTimeFormat', 'DisplayNames', 'ListFormat', 'Locale', 'NumberFormat', 'PluralRules', 'RelativeTimeFormat', 'Segmenter']) {
  const Real = Intl[name];
  Intl[name] = new Proxy(Real, { construct(target, args) { made.push(name); return new target(...args); } });
}
await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)});
process.stdout.write(JSON.stringify(made));
`;

it('imports got and the client without making an Intl formatter (no ICU locale data at start)', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE]);
  assert.deepEqual(JSON.parse(stdout), []);
});
