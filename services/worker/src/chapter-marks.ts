import type { Production } from '@auphonic-bridge/auphonic';
import type { ChapterTimes } from './record.ts';

/** A chapter as chapters.json will have it. */
export interface ChapterMark {
  /** Its place in chapters.json, from 1 (chapter images are named after it). */
  number: number;
  /** Seconds into the stored audio. */
  startTime: number;
  title: string | null;
  url: string | null;
  /** The chapter's image as Auphonic links it, if any. */
  image: string | null;
}

/**
 * The production's chapters on the time line of the output files. Auphonic's
 * automatic cutting moves them: `start_output_sec` (or `start_output`) is
 * where a chapter starts in what we store, `start_sec` where it started in
 * the input. The input time is taken only where the output time is absent,
 * and `times` says so; a chapter with neither is left out. The times are
 * read afresh from each rendering, never from an earlier chapters.json, so
 * a re-run cannot shorten them twice. Sorted by time, as the format wants.
 */
export function chapterMarks(production: Production): { marks: ChapterMark[]; times: ChapterTimes } {
  const listed = Array.isArray(production.chapters) ? (production.chapters as unknown[]) : [];
  const timed: Array<Omit<ChapterMark, 'number'> & { input: boolean }> = [];
  const leftOut: number[] = [];
  listed.forEach((entry, i) => {
    const c = entry && typeof entry === 'object' ? (entry as Record<string, unknown>) : {};
    const output = seconds(c.start_output_sec) ?? timestring(c.start_output);
    const input = output === null ? (seconds(c.start_sec) ?? timestring(c.start)) : null;
    const startTime = output ?? input;
    if (startTime === null) {
      leftOut.push(i + 1);
      return;
    }
    timed.push({ startTime, input: output === null, title: text(c.title), url: webUrl(c.url), image: text(c.image) });
  });
  timed.sort((a, b) => a.startTime - b.startTime);
  const marks = timed.map(({ input: _input, ...mark }, i) => ({ ...mark, number: i + 1 }));
  const inputTimes = timed.flatMap((m, i) => (m.input ? [i + 1] : []));
  const from = inputTimes.length === 0 ? 'output' : inputTimes.length === timed.length ? 'input' : 'mixed';
  return { marks, times: { from, inputTimes, leftOut } };
}

function seconds(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

/** Auphonic's "HH:MM:SS" or "HH:MM:SS.mmm". */
function timestring(value: unknown): number | null {
  const m = typeof value === 'string' ? /^(\d+):([0-5]?\d):([0-5]?\d(?:\.\d+)?)$/.exec(value.trim()) : null;
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** Auphonic sends "" for no link; only a web link is worth passing on to a player. */
function webUrl(value: unknown): string | null {
  if (typeof value !== 'string' || !URL.canParse(value)) return null;
  const protocol = new URL(value).protocol;
  return protocol === 'https:' || protocol === 'http:' ? value : null;
}
