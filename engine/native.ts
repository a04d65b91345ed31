/**
 * Loads the Rust addon built by `npm run build:native` into `native/`.
 * `@duckdb/node-api` is loaded first so its `libduckdb` is already in the process
 * when the addon (which links the same library) is opened: one DuckDB per process.
 */
import '@duckdb/node-api';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Native from '../native/index.js';

/** The package root: the nearest folder above this file holding `package.json`. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('barstream: cannot find the package root');
    dir = up;
  }
  return dir;
}

function platformSuffix(): string {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-gnu`;
  return `${platform}-${arch}`;
}

function load(): typeof Native {
  const file = join(packageRoot(), 'native', `barstream.${platformSuffix()}.node`);
  if (!existsSync(file)) {
    throw new Error(`barstream: the native addon ${file} is missing; run \`npm run build\` (needs a Rust toolchain)`);
  }
  return createRequire(import.meta.url)(file) as typeof Native;
}

export const addon: typeof Native = load();
export type { Native };
