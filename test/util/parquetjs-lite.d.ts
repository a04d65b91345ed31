/** The parts of `parquetjs-lite` (untyped) the reader tests use. */
declare module 'parquetjs-lite' {
  export interface ParquetCursor {
    /** The next row as an object, or null after the last. */
    next(): Promise<Record<string, unknown> | null>;
  }
  export class ParquetReader {
    static openFile(path: string): Promise<ParquetReader>;
    getRowCount(): number | bigint;
    getCursor(columns?: string[]): ParquetCursor;
    schema: { fields: Record<string, unknown> };
    close(): Promise<void>;
  }
  const parquet: { ParquetReader: typeof ParquetReader };
  export default parquet;
}
