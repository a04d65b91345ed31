/** `--sql-file PATH` (`-` for stdin): SQL too long for one command-line argument (128 KiB). */
import { readFile, stat } from 'node:fs/promises';
import { invalidParam } from '../errors.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The SQL text of a file, or of stdin for `-`; refuses a missing file, a folder and an empty
 * text, naming the path.
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM`.
 * @example
 * const sql = await readSqlFile('screens/recent.sql');
 */
export async function readSqlFile(path: string): Promise<string> {
  let text: string;
  if (path === '-') {
    text = await readStdin();
  } else {
    const s = await stat(path).catch(() => undefined);
    if (!s) throw invalidParam(`--sql-file ${path} does not exist`);
    if (s.isDirectory()) throw invalidParam(`--sql-file ${path} is a folder, not a file`);
    text = await readFile(path, 'utf8');
  }
  if (text.trim() === '') throw invalidParam(`--sql-file ${path === '-' ? '- (stdin)' : path} is empty`);
  return text;
}

/** The SQL of `--sql` or `--sql-file` (not both), or undefined when neither is given. */
export async function sqlOption(o: { sql?: string; sqlFile?: string }): Promise<string | undefined> {
  if (o.sql !== undefined && o.sqlFile !== undefined) throw invalidParam('give --sql or --sql-file, not both');
  return o.sqlFile !== undefined ? readSqlFile(o.sqlFile) : o.sql;
}
