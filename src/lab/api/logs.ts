/**
 * `pods/{name}/log`: a container's output as text (the last `tailLines` lines), or followed (`follow=true`)
 * until the container stops.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { ApiResponse } from './request.js';

function readLog(file: string, tail: number | undefined): string {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* nothing logged yet */
  }
  if (tail === undefined) return text;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines
    .slice(Math.max(0, lines.length - tail))
    .map((l) => `${l}\n`)
    .join('');
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export function logResponse(file: string, running: () => boolean, tail: number | undefined, follow: boolean): ApiResponse {
  if (!follow) return { kind: 'text', status: 200, body: readLog(file, tail) };
  return {
    kind: 'stream',
    contentType: 'text/plain',
    start: (out) => {
      out.write(readLog(file, tail));
      let offset = sizeOf(file);
      const timer = setInterval(() => {
        const size = sizeOf(file);
        if (size > offset) {
          const fd = openSync(file, 'r');
          const buf = Buffer.alloc(size - offset);
          readSync(fd, buf, 0, buf.length, offset);
          closeSync(fd);
          offset = size;
          out.write(buf.toString('utf8'));
        }
        if (!running()) {
          clearInterval(timer);
          out.end();
        }
      }, 200);
      return () => clearInterval(timer);
    },
  };
}
