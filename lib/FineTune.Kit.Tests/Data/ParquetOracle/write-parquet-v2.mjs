// Writes a small file with hyparquet-writer, which writes data page v2 only: a string column and a list of strings.
// stdin: {"path": "..."}
import { parquetWriteFile } from "hyparquet-writer";
import { readFileSync } from "node:fs";

const { path } = JSON.parse(readFileSync(0, "utf8"));
parquetWriteFile({
  filename: path,
  columnData: [
    { name: "text", data: ["a", "b"] },
    { name: "tags", data: [["x", "y"], []] },
  ],
  schema: [
    { name: "root", num_children: 2 },
    { name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
    { name: "tags", repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
  ],
});
process.stdout.write(JSON.stringify({ ok: true }));
