import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';

// The JSON Chapters 1.2 schema, written from the spec's text (it publishes none).
const schema = JSON.parse(readFileSync(new URL('./fixtures/json-chapters-1.2.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true });
// The two formats the schema uses, as WHATWG URL parsing (what players use) sees them.
ajv.addFormat('uri', (value: string) => URL.canParse(value));
ajv.addFormat('uri-reference', (value: string) => URL.canParse(value, 'https://host.invalid/episode/'));
const validate = ajv.compile(schema);

/** Fails unless `doc` is a valid JSON Chapters 1.2 document: the schema, and chapters in ascending startTime. */
export function assertJsonChapters(doc: unknown): asserts doc is { version: string; chapters: Array<Record<string, unknown>> } {
  assert.ok(validate(doc), `not JSON Chapters 1.2: ${ajv.errorsText(validate.errors)}`);
  const times = (doc as { chapters: Array<{ startTime: number }> }).chapters.map((c) => c.startTime);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'chapters are in ascending startTime',
  );
}
