using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Text;

/// <summary>A small deterministic corpus and a tokenizer trained on it, shared by the text tests.</summary>
internal static class TestCorpus
{
    public static readonly string[] Specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    public static IReadOnlyList<string> Lines { get; } = Build();

    private static readonly Lazy<BpeModel> model = new(() =>
        new BpeTrainer().VocabSize(600).SpecialTokens(Specials).Train(Lines));

    public static BpeModel Model => model.Value;

    /// <summary>Saves the shared model into a fresh temp folder.</summary>
    public static string SaveToTemp(TokenizerConfig? config = null)
    {
        var dir = TempFolder.Fresh();
        Model.Save(dir, config ?? new TokenizerConfig { BosToken = "<|endoftext|>", EosToken = "<|endoftext|>", PadToken = "<|endoftext|>" });
        return dir;
    }

    /// <summary>Texts that stress byte-level round trips.</summary>
    public static readonly string[] Awkward =
    [
        "",
        " ",
        "plain words, with punctuation!",
        "naïve café — résumé; Ünïcödé ß ẞ",
        "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇳🇱",
        "combining: e\u0301 a\u0308 n\u0303 (decomposed)",
        "tabs\tand\t\ttabs, multiple   spaces,\r\nwindows newline, \u00A0nbsp\u00A0, \u2003em space, trailing   ",
        "\n\n\nleading newlines",
        "日本語のテキストと中文",
        "mixed <|im_start|>user\nhi<|im_end|> tokens<|endoftext|>",
        "numbers 12345 3.14159 -0.5e10 #A-1234 $19.99",
        "zero\u200Bwidth and \u0000 nul and \u007F del",
        "math 𝐀𝐁𝐂 and astral 𠜎",
        "don't won't it's we're they've I'm we'll he'd",
    ];

    private static string[] Build()
    {
        var subjects = new[] { "The thermostat", "My router", "The parcel", "Your subscription", "The camera", "Our app" };
        var verbs = new[] { "stopped working", "arrived late", "was charged twice", "keeps restarting", "needs an update", "shows an error" };
        var tails = new[] { "yesterday.", "since Monday!", "after the update.", "again and again...", "— please help.", "(order #48213)." };
        var lines = new List<string>();
        var rng = new Random(11);
        for (var i = 0; i < 400; i++)
            lines.Add($"{subjects[rng.Next(subjects.Length)]} {verbs[rng.Next(verbs.Length)]} {tails[rng.Next(tails.Length)]} Ticket {rng.Next(1000, 9999)}.\n");
        lines.Add("<|im_start|>user\nHello there<|im_end|>\n<|endoftext|>");
        return lines.ToArray();
    }
}
