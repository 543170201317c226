using FineTune.Kit.Data;
using FineTune.Kit.Text;

namespace FineTune.Kit.Training;

/// <summary>
/// Turns data sets into training sequences with the right loss mask: every token for raw text, the completion for
/// prompt/completion rows, the assistant turns for chat rows, and the label for classification rows.
/// </summary>
public static class SftData
{
    /// <summary>
    /// Formats any supported data set: `text` rows (continued pre-training), `prompt`/`completion` rows, or chat
    /// `messages` rows (rendered with <paramref name="chatTemplate"/>, ChatML by default).
    /// </summary>
    public static List<TokenizedExample> FromDataset(Dataset data, TextTokenizer tokenizer, ChatTemplate? chatTemplate = null)
    {
        return data.Shape switch
        {
            DatasetShape.Chat => data.AsChat().Select(r =>
            {
                var encoded = (chatTemplate ?? ChatTemplate.ChatMl).Encode(tokenizer, r.Messages);
                return new TokenizedExample(encoded.Ids.Select(i => (long)i).ToArray(), encoded.LossMask.ToArray());
            }).ToList(),
            DatasetShape.PromptCompletion => Completions(data.AsPromptCompletion().Select(r => (r.Prompt, r.Completion)), tokenizer),
            DatasetShape.Text => data.AsText()
                .Select(r => TokenizedExample.AllTokens([.. Ids(tokenizer, r.Text), .. EosOf(tokenizer.EosId)])).ToList(),
            var shape => throw new DataFormatException($"{data.Source ?? "data"}: rows of shape {shape} cannot be used for training (expected text, prompt/completion or messages)."),
        };
    }

    /// <summary>
    /// Classification as scoring of label tokens: the prompt renders the text with <paramref name="template"/> (a
    /// prompt template), the completion is the verbalised label followed by end-of-sequence, and only the completion
    /// counts in the loss.
    /// </summary>
    public static List<TokenizedExample> Classification(IEnumerable<LabeledExample> examples, IClassificationFormat template, TextTokenizer tokenizer) =>
        Completions(examples.Select(e => (template.Prompt(e.Text), template.Completion(e.Label))), tokenizer);

    /// <summary>
    /// Prompt/completion pairs in a format of your own: each prompt followed by its completion and end-of-sequence, with
    /// only the completion counting in the loss.
    /// </summary>
    public static List<TokenizedExample> Completions(IEnumerable<(string Prompt, string Completion)> pairs, TextTokenizer tokenizer)
    {
        return pairs.Select(p => TokenizedExample.PromptCompletion(Ids(tokenizer, p.Prompt), [.. Ids(tokenizer, p.Completion), .. EosOf(tokenizer.EosId)])).ToList();
    }

    private static long[] Ids(TextTokenizer tokenizer, string text) => tokenizer.Encode(text).Select(i => (long)i).ToArray();

    private static long[] EosOf(int? eos) => eos is { } e ? [e] : [];
}
