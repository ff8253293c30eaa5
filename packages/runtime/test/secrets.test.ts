import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesAnySecret } from '../src/secrets.ts';

describe('matchesAnySecret', () => {
  it('matches the current and the previous secret, nothing else', () => {
    const secrets = ['current-secret-0123456789', 'previous-secret-0123456789'];
    assert.equal(matchesAnySecret('current-secret-0123456789', secrets), true);
    assert.equal(matchesAnySecret('previous-secret-0123456789', secrets), true);
    for (const wrong of ['', 'current-secret-012345678', 'current-secret-0123456789x', 'CURRENT-SECRET-0123456789', 'ü']) {
      assert.equal(matchesAnySecret(wrong, secrets), false, wrong);
    }
  });

  it('matches nothing when no secret is configured', () => {
    assert.equal(matchesAnySecret('', []), false);
    assert.equal(matchesAnySecret('anything', []), false);
  });
});
