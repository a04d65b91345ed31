/** `--sql-file PATH` and `--formula-file PATH`: text read from a file, or from stdin with `-`. */
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
  return readTextOption('--sql-file', 'the SQL', path);
}

/**
 * The text of a file option such as `--sql-file PATH` or `--formula-file PATH` (`-` reads
 * stdin), without a byte order mark. Fails naming the option and the path when it is
 * missing, a folder, unreadable or holds nothing but whitespace.
 * @example
 * const text = await readTextOption('--formula-file', 'the formula', 'screens/breakout.txt');
 */
export async function readTextOption(option: string, what: string, path: string): Promise<string> {
  if (typeof path !== 'string' || path === '') throw invalidParam(`${option} needs a path (or - for stdin)`);
  let text: string;
  if (path === '-') {
    if (process.stdin.isTTY) throw invalidParam(`${option} -: stdin is a terminal; pipe ${what} in, or give a file`);
    text = await readStdin();
  } else {
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new BarstreamError('BARSTREAM_IO', code === 'ENOENT' ? `${option} ${path} does not exist` : `${option} ${path}: cannot read it (${code ?? String(e)})`, { cause: e });
    }
    if (isDir) throw new BarstreamError('BARSTREAM_IO', `${option} ${path} is a folder, not a file`);
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new BarstreamError('BARSTREAM_IO', `${option} ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
  }
  text = text.replace(/^\uFEFF/, '');
  if (text.trim() === '') throw invalidParam(`${option} ${path === '-' ? '- (stdin)' : path} is empty`);
  return text;
}

/** The SQL of `--sql` or `--sql-file` (not both), or undefined when neither is given. */
export async function sqlOption(o: { sql?: string; sqlFile?: string }): Promise<string | undefined> {
  if (o.sql !== undefined && o.sqlFile !== undefined) throw invalidParam('give --sql or --sql-file, not both');
  return o.sqlFile !== undefined ? readSqlFile(o.sqlFile) : o.sql;
}

/** The formula of `--formula` or `--formula-file` (exactly one of them). */
export async function formulaOption(o: { formula?: string; formulaFile?: string }, required = true): Promise<string | undefined> {
  if (o.formula !== undefined && o.formulaFile !== undefined) throw invalidParam('give --formula or --formula-file, not both');
  if (o.formulaFile !== undefined) return readTextOption('--formula-file', 'the formula', o.formulaFile);
  if (o.formula === undefined && required) throw invalidParam('a formula is required: --formula TEXT or --formula-file PATH (see docs/formulas.md)');
  if (o.formula !== undefined && o.formula.trim() === '') throw invalidParam('--formula is empty');
  return o.formula;
}
