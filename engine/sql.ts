/** Loads the `.sql` files in `sql/` and fills their `{{name}}` placeholders. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './native.js';

/** A SQL string literal. */
export function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A SQL list of string literals, e.g. a file list for `read_parquet`. */
export function literalList(items: string[]): string {
  return `[${items.map(literal).join(', ')}]`;
}

/** The text of `sql/<name>.sql` with each `{{key}}` replaced by `values[key]`. */
export function sqlFile(name: string, values: Record<string, string>): string {
  const text = readFileSync(join(packageRoot(), 'sql', `${name}.sql`), 'utf8');
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`sql/${name}.sql needs a value for {{${key}}}`);
    return values[key];
  });
}
