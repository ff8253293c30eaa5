import type { FileHandle } from 'node:fs/promises';

/** A positional write may land short (a full disk, a signal): the rest is written after it. */
export async function writeAll(fh: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.length - offset, position + offset);
    offset += bytesWritten;
  }
}
