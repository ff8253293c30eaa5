// Deadlines: one timer for many waits; the late ones fail, the rest settle as their work does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deadlines } from '../src/deadline.ts';

const late = () => new Error('late');

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Deadlines', () => {
  it('settles each wait as its work does, in any order, and lets go of every one', async () => {
    const deadlines = new Deadlines(10);
    const works = Array.from({ length: 6 }, () => deferred<number>());
    const waits = works.map((w) => deadlines.within(w.promise, 10_000, late));
    assert.equal(deadlines.size, 6);
    // The middle, the head, the tail, then the rest.
    for (const i of [2, 0, 5, 3, 1]) works[i]?.resolve(i);
    works[4]?.reject(new Error('four'));
    const outcomes = await Promise.allSettled(waits);
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)),
      [0, 1, 2, 3, 'four', 5],
    );
    assert.equal(deadlines.size, 0);
  });

  it('fails only the late ones, once, and a late work that settles afterwards changes nothing', async () => {
    const deadlines = new Deadlines(5);
    const slow = deferred<string>();
    const quick = deferred<string>();
    const long = deferred<string>();
    const a = deadlines.within(slow.promise, 20, late);
    const b = deadlines.within(quick.promise, 20, late);
    const c = deadlines.within(long.promise, 10_000, late);
    quick.resolve('quick');
    assert.equal(await b, 'quick');
    await assert.rejects(a, /late/);
    assert.equal(deadlines.size, 1, 'the long wait is still there');
    slow.resolve('too late');
    await sleep(20);
    assert.equal(deadlines.size, 1);
    long.resolve('long');
    assert.equal(await c, 'long');
    assert.equal(deadlines.size, 0);
    // A new wait after the list emptied is swept as well.
    await assert.rejects(deadlines.within(new Promise(() => {}), 10, late), /late/);
  });
});
