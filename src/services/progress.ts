/**
 * What services report while they work, per node; the CLI decides how it looks (cli/progress.ts) and
 * tests and benchmarks may stay silent.
 */
export interface Progress {
  update(node: string, step: string): void;
  done(node: string, ok: boolean, summary: string): void;
  stop(): void;
}

export const silentProgress: Progress = { update() {}, done() {}, stop() {} };
