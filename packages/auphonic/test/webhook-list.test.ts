import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuphonicError } from '../src/errors.ts';
import { isMissingEndpoint, webhookList, webhooksOfAnswer } from '../src/webhook-list.ts';

const A = 'https://a.example/hook';
const B = 'https://b.example/hook';

describe('webhook fields, whichever form Auphonic answers in', () => {
  it('reads one URL, a list, or none ("" and null)', () => {
    assert.deepEqual(webhookList(A), [A]);
    assert.deepEqual(webhookList([A, B]), [A, B]);
    assert.deepEqual(webhookList(''), []);
    assert.deepEqual(webhookList(null), []);
    assert.deepEqual(webhookList([A, '', null, 7]), [A]);
  });

  it("reads webhook.json's list at the top of the answer (as Auphonic's n8n node does) or inside data", () => {
    assert.deepEqual(webhooksOfAnswer({ status_code: 200, error_message: '', webhook: [A, B] }), [A, B]);
    assert.deepEqual(webhooksOfAnswer({ status_code: 200, webhook: null }), []);
    assert.deepEqual(webhooksOfAnswer({ status_code: 200, data: { webhook: [B] } }), [B]);
    assert.deepEqual(webhooksOfAnswer({ status_code: 200, data: [A] }), [A]);
    assert.deepEqual(webhooksOfAnswer({ status_code: 200, data: null }), []);
  });

  it('takes a 404 or 405 for "no such endpoint here", nothing else', () => {
    const err = (code: 'ERR_AUPHONIC_NOT_FOUND' | 'ERR_AUPHONIC_REJECTED' | 'ERR_AUPHONIC_UNAUTHORIZED', statusCode: number) =>
      new AuphonicError(code, 'x', { retryable: false, statusCode });
    assert.equal(isMissingEndpoint(err('ERR_AUPHONIC_NOT_FOUND', 404)), true);
    assert.equal(isMissingEndpoint(err('ERR_AUPHONIC_REJECTED', 405)), true);
    assert.equal(isMissingEndpoint(err('ERR_AUPHONIC_REJECTED', 400)), false);
    assert.equal(isMissingEndpoint(err('ERR_AUPHONIC_UNAUTHORIZED', 401)), false);
    assert.equal(isMissingEndpoint(new Error('network')), false);
  });
});
