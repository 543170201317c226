namespace FineTune.Kit.Text;

/// <summary>
/// What tokenizer_config.json says beyond the vocabulary: which special tokens play the roles of BOS, EOS, PAD and UNK,
/// whether encoding adds BOS/EOS, and the chat template.
/// </summary>
public sealed record TokenizerConfig
{
    /// <summary>Beginning-of-sequence token string.</summary>
    public string? BosToken { get; init; }
    /// <summary>End-of-sequence token string.</summary>
    public string? EosToken { get; init; }
    /// <summary>Padding token string.</summary>
    public string? PadToken { get; init; }
    /// <summary>Unknown token string (byte-level vocabularies need none).</summary>
    public string? UnkToken { get; init; }
    /// <summary>Whether <c>Encode(text, addSpecialTokens: true)</c> puts BOS first.</summary>
    public bool AddBosToken { get; init; }
    /// <summary>Whether <c>Encode(text, addSpecialTokens: true)</c> puts EOS last.</summary>
    public bool AddEosToken { get; init; }
    /// <summary>Jinja chat template (the "default" one when the file lists several); <see cref="Text.ChatTemplate"/> renders it.</summary>
    public string? ChatTemplate { get; init; }
    /// <summary>Named chat templates, when tokenizer_config.json gives a list of them (name to Jinja source).</summary>
    public IReadOnlyDictionary<string, string> NamedChatTemplates { get; init; } = new Dictionary<string, string>();
    /// <summary>Longest sequence the model takes, if known.</summary>
    public int? ModelMaxLength { get; init; }
    /// <summary>
    /// `clean_up_tokenization_spaces`: decoding removes the space before punctuation and English contractions
    /// (" ." → ".", " n't" → "n't", …), as transformers' decode does (false when absent, transformers' default).
    /// </summary>
    public bool CleanUpTokenizationSpaces { get; init; }
    /// <summary>Extra special tokens listed in added_tokens_decoder (content to id).</summary>
    public IReadOnlyDictionary<string, int> AddedTokens { get; init; } = new Dictionary<string, int>();
}
