import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Production } from '@auphonic-bridge/auphonic';
import { chapterMarks } from '../src/chapter-marks.ts';

const withChapters = (chapters: unknown): Production => ({ uuid: 'u', status: 3, status_string: 'Done', output_files: [], chapters });

describe('chapter marks', () => {
  it('uses the output time (start_output_sec, else start_output), the input time only without one, and leaves out a chapter with neither', () => {
    const { marks, times } = chapterMarks(
      withChapters([
        { title: 'Seconds', start_sec: 10, start_output_sec: 25.372585, start: '00:00:10', start_output: '00:00:25.372' },
        { title: 'String only', start: '00:02:18', start_output: '00:02:33.372' },
        { title: 'Input only', start_sec: 200, start_output_sec: null },
        { title: 'Input string', start: '01:00:00.5' },
        { title: 'No time', start_output: 'soon' },
        null,
      ]),
    );
    assert.deepEqual(
      marks.map((m) => [m.number, m.startTime, m.title]),
      [
        [1, 25.372585, 'Seconds'],
        [2, 153.372, 'String only'],
        [3, 200, 'Input only'],
        [4, 3600.5, 'Input string'],
      ],
    );
    assert.deepEqual(times, { from: 'mixed', inputTimes: [3, 4], leftOut: [5, 6] });
  });

  it('orders chapters by time, keeps only web links, and treats empty strings as absent', () => {
    const { marks, times } = chapterMarks(
      withChapters([
        { title: 'Second', start_output_sec: 60, url: 'javascript:alert(1)', image: '' },
        { title: '', start_output_sec: 0, url: 'https://auphonic.com', image: 'https://auphonic.com/api/download/audio-upload/u/c.png' },
      ]),
    );
    assert.deepEqual(marks, [
      {
        number: 1,
        startTime: 0,
        title: null,
        url: 'https://auphonic.com',
        image: 'https://auphonic.com/api/download/audio-upload/u/c.png',
      },
      { number: 2, startTime: 60, title: 'Second', url: null, image: null },
    ]);
    assert.equal(times.from, 'output');
  });

  it('has no marks when Auphonic lists no chapters, or something that is not a list', () => {
    for (const chapters of [[], undefined, null, 'x']) assert.deepEqual(chapterMarks(withChapters(chapters)).marks, []);
  });
});
