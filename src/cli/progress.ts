/**
 * Per-node progress on stderr: one live line per node with ora on a TTY (current step, elapsed time),
 * plain "node: step" lines otherwise (logs, CI, pipes). Nothing here writes to stdout.
 */
import { formatMs, logErr } from './output.js';
import { silentProgress, type Progress } from '../services/progress.js';

export { silentProgress, type Progress };

class PlainProgress implements Progress {
  private readonly t0 = performance.now();
  update(node: string, step: string): void {
    logErr(`${node}: ${step}`);
  }
  done(node: string, ok: boolean, summary: string): void {
    logErr(`${node}: ${ok ? 'ok' : 'FAILED'} — ${summary} (${formatMs(performance.now() - this.t0)})`);
  }
  stop(): void {}
}

type Spinner = { text: string; stop(): void; start(): Spinner };

class TtyProgress implements Progress {
  private readonly lines = new Map<string, { step: string; t0: number; final?: string }>();
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly spinner: Spinner, nodes: string[]) {
    for (const n of nodes) this.lines.set(n, { step: 'waiting', t0: performance.now() });
    this.timer = setInterval(() => this.render(), 100);
  }
  private render(): void {
    const width = Math.max(...[...this.lines.keys()].map((n) => n.length));
    this.spinner.text = [...this.lines.entries()]
      .map(([n, l]) => `${n.padEnd(width)}  ${l.final ?? `${l.step} (${formatMs(performance.now() - l.t0)})`}`)
      .join('\n');
  }
  update(node: string, step: string): void {
    const l = this.lines.get(node);
    if (l) l.step = step;
    else this.lines.set(node, { step, t0: performance.now() });
  }
  done(node: string, ok: boolean, summary: string): void {
    const l = this.lines.get(node);
    if (l) l.final = `${ok ? '✔' : '✖'} ${summary} (${formatMs(performance.now() - l.t0)})`;
  }
  stop(): void {
    clearInterval(this.timer);
    this.render();
    this.spinner.stop();
    process.stderr.write(`${this.spinner.text}\n`);
  }
}

/** ora is loaded only when stderr is a TTY and progress is wanted. */
export async function createProgress(nodes: string[], opts: { quiet: boolean }): Promise<Progress> {
  if (opts.quiet) return silentProgress;
  if (!process.stderr.isTTY) return new PlainProgress();
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: process.stderr, discardStdin: false }).start() as unknown as Spinner;
  return new TtyProgress(spinner, nodes);
}
