// Encodes and decodes with @huggingface/tokenizers, the reference the kit's tokenizers are compared against.
// stdin: [{"tokenizer": {...tokenizer.json}, "config": {...tokenizer_config.json}, "texts": [...], "addSpecialTokens": bool}, ...]
// stdout: [[{"ids": [...], "tokens": [...], "decoded": "..."} | {"error": "..."}, ...], ...]
import { Tokenizer } from "@huggingface/tokenizers";
import { readFileSync } from "node:fs";

const cases = JSON.parse(readFileSync(0, "utf8"));
const results = cases.map(({ tokenizer, config, texts, addSpecialTokens }) => {
  let tok;
  try {
    tok = new Tokenizer(tokenizer, config ?? {});
  } catch (e) {
    return texts.map(() => ({ error: String(e && e.message ? e.message : e) }));
  }
  return texts.map((text) => {
    try {
      const enc = tok.encode(text, { add_special_tokens: !!addSpecialTokens });
      return { ids: enc.ids, tokens: enc.tokens, decoded: enc.ids.length === 0 ? "" : tok.decode(enc.ids, { skip_special_tokens: false }) };
    } catch (e) {
      return { error: String(e && e.message ? e.message : e) };
    }
  });
});
process.stdout.write(JSON.stringify(results));
