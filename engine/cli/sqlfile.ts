/** `--sql-file PATH`: SQL text read from a file, or from stdin with `-`. */
import { readFile, stat } from 'node:fs/promises';
import { BarstreamError, invalidParam } from '../errors.js';

/** Reads all of stdin as UTF-8. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The SQL text of `--sql-file PATH` (`-` reads stdin). Fails naming the path when it is
 * missing, a folder, unreadable or holds nothing but whitespace.
 * @example
 * const sql = await readSqlFile('queries/recent.sql');
 */
export async function readSqlFile(path: string): Promise<string> {
  if (typeof path !== 'string' || path === '') throw invalidParam('--sql-file needs a path (or - for stdin)');
  let text: string;
  if (path === '-') {
    if (process.stdin.isTTY) throw invalidParam('--sql-file -: stdin is a terminal; pipe the SQL in, or give a file');
    text = await readStdin();
  } else {
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new BarstreamError('BARSTREAM_IO', code === 'ENOENT' ? `--sql-file ${path} does not exist` : `--sql-file ${path}: cannot read it (${code ?? String(e)})`, { cause: e });
    }
    if (isDir) throw new BarstreamError('BARSTREAM_IO', `--sql-file ${path} is a folder, not a file`);
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new BarstreamError('BARSTREAM_IO', `--sql-file ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
  }
  text = text.replace(/^\uFEFF/, '');
  if (text.trim() === '') throw invalidParam(`--sql-file ${path === '-' ? '- (stdin)' : path} is empty`);
  return text;
}

/** The SQL of `--sql` or `--sql-file` (not both), or undefined when neither is given. */
export async function sqlOption(o: { sql?: string; sqlFile?: string }): Promise<string | undefined> {
  if (o.sql !== undefined && o.sqlFile !== undefined) throw invalidParam('give --sql or --sql-file, not both');
  return o.sqlFile !== undefined ? readSqlFile(o.sqlFile) : o.sql;
}
