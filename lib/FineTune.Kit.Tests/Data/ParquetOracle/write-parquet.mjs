// Writes a Parquet file with parquet-wasm (the Rust arrow-rs writer; data page v1, as pyarrow writes the Hub's files),
// an implementation independent of the kit's. Arrow types are given by a small spec:
// "int32" | "int64" | "float32" | "float64" | "bool" | "utf8" | {"list": SPEC} | {"struct": {"name": SPEC, ...}}
// stdin: {"path": "...", "rowGroupSize": N, "columns": [{"name": "...", "type": SPEC, "data": [...]}]}
// int64 values are given as decimal strings (JSON numbers cannot hold them all).
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm/esm";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

pq.initSync({ module: readFileSync(fileURLToPath(import.meta.resolve("parquet-wasm/esm/parquet_wasm_bg.wasm"))) });

function arrowType(spec) {
  if (typeof spec === "string") {
    const t = { int32: arrow.Int32, int64: arrow.Int64, float32: arrow.Float32, float64: arrow.Float64, bool: arrow.Bool, utf8: arrow.Utf8 }[spec];
    if (!t) throw new Error(`unknown type ${spec}`);
    return new t();
  }
  if (spec.list) return new arrow.List(new arrow.Field("element", arrowType(spec.list), true));
  if (spec.struct) return new arrow.Struct(Object.entries(spec.struct).map(([n, s]) => new arrow.Field(n, arrowType(s), true)));
  throw new Error(`unknown type ${JSON.stringify(spec)}`);
}

function convert(spec, value) {
  if (value === null || value === undefined) return null;
  if (spec === "int64") return BigInt(value);
  if (typeof spec === "string") return value;
  if (spec.list) return value.map((v) => convert(spec.list, v));
  return Object.fromEntries(Object.entries(spec.struct).map(([n, s]) => [n, convert(s, value[n])]));
}

const input = JSON.parse(readFileSync(0, "utf8"));
const vectors = {};
for (const c of input.columns) vectors[c.name] = arrow.vectorFromArray(c.data.map((v) => convert(c.type, v)), arrowType(c.type));
const table = pq.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(vectors), "stream"));
const props = new pq.WriterPropertiesBuilder().setMaxRowGroupSize(input.rowGroupSize ?? 1024 * 1024).build();
writeFileSync(input.path, pq.writeParquet(table, props));
process.stdout.write(JSON.stringify({ ok: true }));
