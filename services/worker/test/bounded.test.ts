import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type IdleWork, mapBounded } from '../src/bounded.ts';

describe('mapBounded: slots with no item left take idle work', () => {
  it('lets idle slots work while an item runs, and tells them how many are idle together', async () => {
    const seen: number[] = [];
    let work = 3;
    const idle: IdleWork = {
      async run(_signal, idleSlots) {
        seen.push(idleSlots);
        if (work === 0) return false;
        work -= 1;
        return true;
      },
      changed: () => new Promise(() => {}),
    };
    let finishSlow!: () => void;
    const slow = new Promise<void>((resolve) => {
      finishSlow = resolve;
    });
    const result = await mapBounded(
      [1, 2, 3],
      3,
      async (n) => {
        if (n === 1) {
          while (work > 0) await new Promise((r) => setImmediate(r));
          finishSlow();
          await slow;
        }
        return n * 10;
      },
      undefined,
      idle,
    );
    assert.deepEqual(result, [10, 20, 30]);
    assert.equal(work, 0, 'the idle work was done by the slots of items 2 and 3');
    assert.ok(Math.max(...seen) >= 2, `two slots idle together (${seen})`);
  });

  it('does not leave a slot waiting for ever when the last item finishes while it looks for work', { timeout: 5_000 }, async () => {
    let lastDone!: () => void;
    const done = new Promise<void>((resolve) => {
      lastDone = resolve;
    });
    let looking!: () => void;
    const isLooking = new Promise<void>((resolve) => {
      looking = resolve;
    });
    const idle: IdleWork = {
      async run() {
        looking();
        await done;
        await new Promise((r) => setImmediate(r));
        return false;
      },
      // Nothing more will change: only the item's end may wake the slot.
      changed: () => new Promise(() => {}),
    };
    const result = await mapBounded(
      [1, 2],
      2,
      async (n) => {
        if (n === 2) {
          await isLooking;
          lastDone();
        }
        return n;
      },
      undefined,
      idle,
    );
    assert.deepEqual(result, [1, 2]);
  });
});
