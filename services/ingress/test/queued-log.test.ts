import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createLogger } from '@auphonic-bridge/runtime';
import { QueuedLog } from '../src/queued-log.ts';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ service: 'test', level, destination: { write: (s: string) => lines.push(JSON.parse(s)) } });
  return { logger, lines };
}

const webhook = (i: number) => ({ uuid: `QueuedLog${String(i).padStart(13, '0')}`, reportedStatus: 3 });

describe('QueuedLog: the accepted webhooks of a turn in one line', () => {
  it('writes the webhooks of one turn together once the turn is over, and the next turn in a line of its own', async () => {
    const { logger, lines } = capture();
    const log = new QueuedLog(logger);
    log.add(webhook(1));
    log.add(webhook(2));
    log.add({ uuid: webhook(3).uuid, reportedStatus: null });
    assert.equal(lines.length, 0, 'nothing before the turn ends');
    await nextTurn();
    log.add(webhook(4));
    await nextTurn();
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.count, l.webhooks]),
      [
        [30, 'production webhooks queued', 3, [webhook(1), webhook(2), { uuid: webhook(3).uuid, reportedStatus: null }]],
        [30, 'production webhooks queued', 1, [webhook(4)]],
      ],
    );
  });

  it('writes a full line at once, so that no line grows without bound', async () => {
    const { logger, lines } = capture();
    const log = new QueuedLog(logger, { maxPerLine: 2 });
    for (let i = 0; i < 5; i += 1) log.add(webhook(i));
    assert.deepEqual(
      lines.map((l) => l.count),
      [2, 2],
    );
    await nextTurn();
    assert.deepEqual(
      lines.map((l) => l.count),
      [2, 2, 1],
    );
    assert.deepEqual(
      lines.flatMap((l) => (l.webhooks as { uuid: string }[]).map((w) => w.uuid)),
      [0, 1, 2, 3, 4].map((i) => webhook(i).uuid),
    );
  });

  it('flush() writes what is pending now, and the turn then has nothing left to write', async () => {
    const { logger, lines } = capture();
    const log = new QueuedLog(logger);
    log.add(webhook(1));
    log.flush();
    assert.equal(lines.length, 1);
    await nextTurn();
    assert.equal(lines.length, 1);
  });
});
