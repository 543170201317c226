// Renders chat templates with @huggingface/jinja, the reference the kit's interpreter is compared against.
// stdin: [{"template": "...", "variables": {...}}, ...]   stdout: [{"text": "..."} | {"error": "..."}, ...]
import { Template } from "@huggingface/jinja";
import { readFileSync } from "node:fs";

const cases = JSON.parse(readFileSync(0, "utf8"));
const results = cases.map(({ template, variables }) => {
  try {
    return { text: new Template(template).render(variables) };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
});
process.stdout.write(JSON.stringify(results));
