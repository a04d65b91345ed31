/**
 * parquetjs-lite, an independent JavaScript Parquet reader, given the two things barstream's
 * Parquet uses and it lacks: a zstd codec (the `zstd` command-line tool inflates each page)
 * and the encoding name RLE_DICTIONARY for dictionary-index pages, which are laid out byte
 * for byte as its PLAIN_DICTIONARY pages (a bit width, then RLE/bit-packed indices: the
 * Parquet spec renamed the encoding and kept the layout). The footer, page headers,
 * dictionaries, levels and values are still decoded by parquetjs-lite's own code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Why the reader cannot be given zstd here, or undefined when it can. */
export const zstdMissing: string | undefined = spawnSync('zstd', ['--version']).error
  ? 'the zstd command-line tool is not installed (apt-get install zstd)'
  : undefined;

interface Codec {
  deflate(b: Buffer): Buffer;
  inflate(b: Buffer): Buffer;
}

/** Registers zstd and RLE_DICTIONARY with parquetjs-lite (once per process). */
export function teachParquetjsLite(): void {
  const { PARQUET_COMPRESSION_METHODS: codecs } = require('parquetjs-lite/lib/compression.js') as { PARQUET_COMPRESSION_METHODS: Record<string, Codec> };
  const zstd = (flags: string[]) => (b: Buffer) => execFileSync('zstd', [...flags, '-q', '-c'], { input: b, maxBuffer: 1 << 30 });
  codecs.ZSTD = { deflate: zstd([]), inflate: zstd(['-d']) };
  const encodings = require('parquetjs-lite/lib/codec/index.js') as Record<string, unknown>;
  encodings.RLE_DICTIONARY = encodings.PLAIN_DICTIONARY;
}
