// The demo a newcomer runs first (npm run demo) shows both integrations and the signed events; it must keep working.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '@auphonic-bridge/testing';

describe('the demo (scripts/demo.ts)', () => {
  it("stores a production webhook's and an External Service's productions, and the host gets both events, verified", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bridge-demo-'));
    try {
      const child = spawn(process.execPath, ['scripts/demo.ts'], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', DEMO_STORAGE_DIR: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const [code] = await once(child, 'exit');
      assert.equal(code, 0, out);
      assert.match(out, /✓ .*\/account\/\w+\/demo-episode\.mp3/);
      assert.match(out, /"startTime": 82\.5/, 'chapters at the output times');
      assert.match(out, /came back: "Connected"/);
      assert.match(out, /JWT webhook answered 200/);
      assert.match(out, /✓ .*\/connections\/[\w-]+\/\w+\/episode-2\.mp3/);
      assert.equal(out.match(/signature verified/g)?.length, 2, out);
      assert.match(out, /downloads of demo-episode\.mp3 from storage: 1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
