/**
 * Peer: `technicalindicators` (npm), the JavaScript ecosystem's usual pick, on one series, in its
 * own Node process: `node dist/bench/peers/technicalindicators.js '<json config>'`.
 * Its inputs are plain number arrays (converted before timing); its outputs omit the warm-up bars
 * (the harness aligns them at the end). It has no DEMA or KAMA: DEMA is composed from its EMA as a
 * user would (2*e1 - EMA(e1)); KAMA is not offered.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ti from 'technicalindicators';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const b = readFileSync(cfg.closes);
const values = Array.from(new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
const { length: L, rsiLength: RL, bbLength: BL, bbK: K } = cfg;
const outputs: Record<string, string> = {};
const write = (name: string, x: number[]) => {
  const path = join(cfg.outDir, `${name.replace(/\//g, '-')}.f64`);
  writeFileSync(path, new Uint8Array(Float64Array.from(x).buffer));
  outputs[name] = path;
};

const dema = () => {
  const e1 = ti.EMA.calculate({ period: L, values });
  const e2 = ti.EMA.calculate({ period: L, values: e1 });
  const off = e1.length - e2.length;
  return e2.map((v, i) => 2 * e1[i + off] - v);
};
const jobs: Record<string, () => unknown> = {
  sma: () => ti.SMA.calculate({ period: L, values }),
  ema: () => ti.EMA.calculate({ period: L, values }),
  wma: () => ti.WMA.calculate({ period: L, values }),
  dema,
  rsi: () => ti.RSI.calculate({ period: RL, values }),
  bollinger: () => ti.BollingerBands.calculate({ period: BL, stdDev: K, values }),
};
const times: Record<string, number[]> = {};
for (const [name, f] of Object.entries(jobs)) {
  let out = f();
  times[name] = [];
  for (let i = 0; i < cfg.runs; i++) {
    const t0 = performance.now();
    out = f();
    times[name].push((performance.now() - t0) / 1000);
  }
  if (name === 'bollinger') {
    const bands = out as { middle: number; upper: number; lower: number }[];
    write('bollinger/mid', bands.map((r) => r.middle));
    write('bollinger/upper', bands.map((r) => r.upper));
    write('bollinger/lower', bands.map((r) => r.lower));
  } else write(name, out as number[]);
}
const peakRssMB = Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
process.stdout.write(`${JSON.stringify({ tool: 'technicalindicators', times, peakRssMB, outputs, notes: ['technicalindicators 3.1 (npm), number[] in and out; DEMA composed from its EMA'] })}\n`);
