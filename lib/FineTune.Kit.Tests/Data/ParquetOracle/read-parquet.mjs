// Reads a Parquet file with hyparquet (pure JavaScript), an implementation independent of the kit's.
// stdin: {"path": "..."}; stdout: {"rows": [...], "rowGroups": N, "schema": [{"name", "type", "repetition_type", "converted_type"}]}
// 64-bit integers come back as JSON numbers when exact, otherwise as decimal strings.
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { readFileSync } from "node:fs";

const { path } = JSON.parse(readFileSync(0, "utf8"));
const bytes = readFileSync(path);
const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const metadata = parquetMetadata(file);
const rows = await parquetReadObjects({ file });
const json = JSON.stringify(
  {
    rows,
    rowGroups: metadata.row_groups.length,
    schema: metadata.schema.map(({ name, type, repetition_type, converted_type }) => ({ name, type, repetition_type, converted_type })),
  },
  (_, v) => (typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v),
);
process.stdout.write(json);
