using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// The curation.json format: which rules run, in order, with their parameters, plus optional augmentation of the
/// training split. Unknown rules or keys are errors (a typo must not silently disable a rule). See docs/data.md.
/// <code>
/// { "text_columns": ["text"], "label_column": "label",
///   "rules": [ {"rule": "normalize_unicode", "form": "NFKC"}, {"rule": "drop_near_duplicates", "threshold": 0.85} ],
///   "augment": {"copies": 1, "word_dropout": 0.1, "word_swap": 0.1} }
/// </code>
/// </summary>
public sealed class CurationConfig
{
    /// <summary>The pipeline the config describes.</summary>
    public required CurationPipeline Pipeline { get; init; }

    /// <summary>Augmentation for the training split, if configured.</summary>
    public Augmenter? Augment { get; init; }

    /// <summary>
    /// The default pipeline used without a config (see docs/data.md); chat data is format-checked first.
    /// </summary>
    public static CurationConfig Default(DatasetShape shape = DatasetShape.Unknown) => new()
    {
        Pipeline = (shape == DatasetShape.Chat ? new CurationPipeline().ValidateChat() : new CurationPipeline())
            .NormalizeUnicode().StripHtml().CollapseWhitespace()
            .DropEmpty()
            .UnifyLabelSpellings()
            .ResolveLabelConflicts()
            .DropDuplicates(nearThreshold: 0.8)
            .RedactPii()
            .FilterLength(minChars: 3, maxChars: 20000),
    };

    /// <summary>Reads a config file; errors name the file and the offending rule or key.</summary>
    public static CurationConfig Load(string path, Func<string, int>? countTokens = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config file not found", path);
        return Parse(File.ReadAllText(path), path, countTokens);
    }

    /// <summary>Parses config text; <paramref name="source"/> names it in errors.</summary>
    public static CurationConfig Parse(string json, string source = "curation.json", Func<string, int>? countTokens = null)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                   ?? throw new DataFormatException($"{source}: expected a JSON object at the top");
        }
        catch (JsonException e)
        {
            throw new DataFormatException($"{source}: invalid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
        var top = new Reader(root, source);
        var textColumns = top.Strings("text_columns");
        var labelColumn = top.String("label_column") ?? "label";
        var pipeline = new CurationPipeline().LabelColumn(labelColumn);
        var rules = top.Node("rules") as JsonArray ?? throw new DataFormatException($"{source}: 'rules' must be a list of rule objects");
        for (int i = 0; i < rules.Count; i++)
        {
            if (rules[i] is not JsonObject ro) throw new DataFormatException($"{source}: rules[{i}] must be an object");
            var r = new Reader(ro, $"{source}: rules[{i}]");
            var name = r.String("rule") ?? throw new DataFormatException($"{source}: rules[{i}] needs a \"rule\" name");
            pipeline.Add(BuildRule(name, r, textColumns, labelColumn, countTokens));
            r.RejectUnknown();
        }
        Augmenter? augment = null;
        if (top.Node("augment") is JsonObject ao)
        {
            var a = new Reader(ao, $"{source}: augment");
            augment = new Augmenter(a.Double("word_dropout") ?? 0.1, a.Double("word_swap") ?? 0.1, a.Int("copies") ?? 1, a.Int("seed") ?? Seeds.Default,
                a.String("column") ?? textColumns?.FirstOrDefault() ?? "text");
            a.RejectUnknown();
        }
        top.RejectUnknown();
        return new CurationConfig { Pipeline = pipeline, Augment = augment };
    }

    /// <summary>The names of the rules a config may use.</summary>
    public static readonly IReadOnlyList<string> RuleNames =
    [
        "normalize_unicode", "strip_html", "collapse_whitespace", "drop_empty", "drop_exact_duplicates", "drop_near_duplicates",
        "redact_pii", "filter_length", "filter_tokens", "normalize_labels", "label_conflicts", "cap_class_size",
        "filter_language", "label_noise", "validate_chat", "unify_label_spellings",
    ];

    private static ICurationRule BuildRule(string name, Reader r, IReadOnlyList<string>? textColumns, string labelColumn, Func<string, int>? countTokens)
    {
        var columns = r.Strings("columns") ?? textColumns;
        return name switch
        {
            "normalize_unicode" => new NormalizeUnicodeRule((r.String("form") ?? "NFKC").ToUpperInvariant() switch
            {
                "NFC" => NormalizationForm.FormC,
                "NFKC" => NormalizationForm.FormKC,
                var f => throw new DataFormatException($"{r.Where}: form must be NFC or NFKC, got '{f}'"),
            }, columns),
            "strip_html" => new StripHtmlRule(columns),
            "collapse_whitespace" => new CollapseWhitespaceRule(r.Bool("keep_newlines") ?? true, columns),
            "drop_empty" => new DropEmptyRule([.. r.Strings("columns") ?? []]),
            "drop_exact_duplicates" => new ExactDuplicateRule(columns, Normalization(r)),
            "drop_near_duplicates" => new NearDuplicateRule(new NearDuplicateOptions(
                r.Double("threshold") ?? 0.8, r.Int("shingle_size") ?? 5,
                (r.String("unit") ?? "char") switch
                {
                    "char" => ShingleUnit.Char,
                    "word" => ShingleUnit.Word,
                    var u => throw new DataFormatException($"{r.Where}: unit must be 'char' or 'word', got '{u}'"),
                },
                r.Int("permutations") ?? 128, r.Int("bands"), r.Int("seed") ?? Seeds.Default, Normalization: Normalization(r)), columns),
            "redact_pii" => new PiiRedactionRule(r.Strings("kinds") is { } kinds
                ? kinds.Aggregate(PiiKind.None, (acc, k) => acc | k switch
                {
                    "email" => PiiKind.Email, "phone" => PiiKind.Phone, "credit_card" => PiiKind.CreditCard, "iban" => PiiKind.Iban, "ip" => PiiKind.Ip,
                    _ => throw new DataFormatException($"{r.Where}: unknown PII kind '{k}' (email, phone, credit_card, iban, ip)"),
                })
                : PiiKind.All, columns),
            "filter_length" => new FilterLengthRule(r.Int("min_chars") ?? 0, r.Int("max_chars") ?? int.MaxValue, columns),
            "filter_tokens" => new FilterTokenCountRule(r.Int("min") ?? 0, r.Int("max") ?? int.MaxValue,
                (r.String("tokenizer") ?? "default") switch
                {
                    "default" => countTokens ?? TokenCounters.Whitespace,
                    "whitespace" => TokenCounters.Whitespace,
                    "chars4" => TokenCounters.CharsOver4,
                    var t => throw new DataFormatException($"{r.Where}: tokenizer must be 'whitespace' or 'chars4', got '{t}'"),
                }, columns),
            "normalize_labels" => new NormalizeLabelsRule(r.Strings("labels"), r.Map("mapping"), r.String("column") ?? labelColumn,
                r.Int("max_edit_distance") ?? 2, r.Bool("drop_unknown") ?? true, r.Bool("lower_case") ?? false),
            "label_conflicts" => new LabelConflictRule(r.String("column") ?? labelColumn, (r.String("resolve") ?? "drop_all") switch
            {
                "drop_all" => ConflictResolution.DropAll,
                "keep_majority" => ConflictResolution.KeepMajority,
                "report_only" => ConflictResolution.ReportOnly,
                var v => throw new DataFormatException($"{r.Where}: resolve must be drop_all, keep_majority or report_only, got '{v}'"),
            }, columns),
            "cap_class_size" => new CapClassSizeRule(r.Int("max") ?? throw new DataFormatException($"{r.Where}: cap_class_size needs \"max\""),
                r.String("column") ?? labelColumn, r.Int("seed") ?? Seeds.Default),
            "filter_language" => new LanguageFilterRule(
                Enum.TryParse<Script>(r.String("script") ?? "latin", ignoreCase: true, out var script) ? script
                    : throw new DataFormatException($"{r.Where}: unknown script '{r.String("script")}'"),
                r.Double("min_script_share") ?? 0.8, r.Strings("languages"), r.Int("min_words") ?? 5, columns),
            "label_noise" => new LabelNoiseRule(r.String("column") ?? labelColumn,
                (r.String("action") ?? "flag") switch
                {
                    "flag" => false,
                    "remove" => true,
                    var v => throw new DataFormatException($"{r.Where}: action must be 'flag' or 'remove', got '{v}'"),
                },
                r.Int("folds") ?? 5, r.Int("seed") ?? Seeds.Default, columns),
            "validate_chat" => new ValidateChatRule(),
            "unify_label_spellings" => new UnifyLabelSpellingsRule(r.String("column") ?? labelColumn, r.Int("max_edit_distance") ?? 2,
                r.Double("rare_share") ?? 0.05),
            _ => throw new DataFormatException($"{r.Where}: unknown rule '{name}'; known rules: {string.Join(", ", RuleNames)}"),
        };
    }

    // "normalize": {"lower_case": true, "remove_punctuation": true, "collapse_whitespace": true, "mask_digits": false};
    // absent keys keep their defaults
    private static TextNormalization? Normalization(Reader rule)
    {
        var node = rule.Node("normalize");
        if (node is null) return null;
        if (node is not JsonObject o) throw new DataFormatException($"{rule.Where}: 'normalize' must be an object, got {node.ToJsonString()}");
        var r = new Reader(o, $"{rule.Where}.normalize");
        var d = TextNormalization.Default;
        var n = new TextNormalization(r.Bool("lower_case") ?? d.LowerCase, r.Bool("remove_punctuation") ?? d.RemovePunctuation,
            r.Bool("collapse_whitespace") ?? d.CollapseWhitespace, r.Bool("mask_digits") ?? d.MaskDigits);
        r.RejectUnknown();
        return n;
    }

    /// <summary>Reads typed keys of one JSON object and remembers which were read, to reject the rest.</summary>
    private sealed class Reader(JsonObject o, string where)
    {
        private readonly HashSet<string> _read = [];

        public string Where => where;

        public JsonNode? Node(string key)
        {
            _read.Add(key);
            return o[key];
        }

        public string? String(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var n => throw Bad(key, "a string", n),
        };

        public int? Int(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<int>(out var i) => i,
            var n => throw Bad(key, "an integer", n),
        };

        public double? Double(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<double>(out var d) => d,
            var n => throw Bad(key, "a number", n),
        };

        public bool? Bool(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            var n => throw Bad(key, "true or false", n),
        };

        public IReadOnlyList<string>? Strings(string key) => Node(key) switch
        {
            null => null,
            JsonArray a when a.All(x => x is JsonValue v && v.TryGetValue<string>(out _)) => a.Select(x => x!.GetValue<string>()).ToList(),
            var n => throw Bad(key, "a list of strings", n),
        };

        public IReadOnlyDictionary<string, string>? Map(string key) => Node(key) switch
        {
            null => null,
            JsonObject m when m.All(p => p.Value is JsonValue v && v.TryGetValue<string>(out _)) => m.ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()),
            var n => throw Bad(key, "an object of strings", n),
        };

        public void RejectUnknown()
        {
            var unknown = o.Select(p => p.Key).Where(k => !_read.Contains(k) && k != "rule").ToList();
            if (unknown.Count > 0) throw new DataFormatException($"{where}: unknown key{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(k => $"'{k}'"))}");
        }

        private DataFormatException Bad(string key, string expected, JsonNode? got) =>
            new($"{where}: '{key}' must be {expected}, got {got?.ToJsonString()}");
    }
}
