/** The golden files of `../shared/golden` (spec names kept: `lam`, `lengths_by_type`, `hma_kind`). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { packageRoot } from '../../engine/native.js';
import type { AtcParams } from '../../engine/kernels.js';

export interface GoldenCase {
  params: Record<string, unknown>;
  outputs: Record<string, (number | null)[]>;
}

export interface Golden {
  file: string;
  close: Float64Array;
  indicators: Record<string, (number | null)[]>;
  atc: GoldenCase[];
}

export const goldenDir = join(packageRoot(), '..', 'shared', 'golden');

export function loadGolden(): Golden[] {
  const files = readdirSync(goldenDir).filter((f) => f.endsWith('.json')).sort();
  expect(files.length).toBeGreaterThan(0);
  return files.map((file) => {
    const g = JSON.parse(readFileSync(join(goldenDir, file), 'utf8'));
    return { file, close: Float64Array.from(g.close), indicators: g.indicators, atc: g.atc };
  });
}

/** The spec's parameter names as the TypeScript API's. */
export function toAtcParams(p: Record<string, unknown>): AtcParams {
  const names: Record<string, keyof AtcParams> = {
    length: 'length',
    lengths_by_type: 'lengths',
    robustness: 'robustness',
    lam: 'lambda',
    decay: 'decay',
    cutout: 'cutout',
    weights: 'weights',
    cut: 'cut',
    hma_kind: 'hma',
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    const name = names[k];
    if (!name) throw new Error(`unknown ATC parameter in golden file: ${k}`);
    out[name] = v;
  }
  return out as AtcParams;
}

/** NaN exactly where `want` is null, else within 1e-9; reports the first mismatch. */
export function expectMatches(what: string, got: Float64Array, want: (number | null)[]): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    const ok = w === null ? Number.isNaN(g) : Math.abs(g - w) <= 1e-9;
    if (!ok) expect.fail(`${what}[${i}]: got ${g}, want ${w}`);
  }
}
