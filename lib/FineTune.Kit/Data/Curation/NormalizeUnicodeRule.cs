using System.Text;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Unicode normalisation: NFC composes characters with their combining marks (e + U+0301 becomes é); NFKC also folds
/// compatibility forms (ligatures, full-width letters, superscripts) into plain ones. Control characters other than
/// tab and line breaks, and zero-width characters, are removed because they are invisible and break duplicate checks.
/// </summary>
public sealed class NormalizeUnicodeRule(NormalizationForm form = NormalizationForm.FormKC, IReadOnlyList<string>? columns = null)
    : TextTransformRule(columns)
{
    /// <summary>The normalisation form.</summary>
    public NormalizationForm Form { get; } = form;

    /// <inheritdoc/>
    public override string Name => "normalize_unicode";

    /// <inheritdoc/>
    public override string Transform(string text)
    {
        var normalized = text.IsNormalized(Form) ? text : text.Normalize(Form);
        StringBuilder? sb = null;
        for (int i = 0; i < normalized.Length; i++)
        {
            char c = normalized[i];
            bool drop = IsInvisible(c);
            if (drop && sb is null) sb = new StringBuilder(normalized, 0, i, normalized.Length);
            if (!drop) sb?.Append(c);
        }
        return sb?.ToString() ?? normalized;
    }

    private static bool IsInvisible(char c) =>
        (char.IsControl(c) && c != '\t' && c != '\n' && c != '\r')
        || c is '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' or '\u00AD';

    /// <inheritdoc/>
    protected override string Describe(string before, string after) => $"unicode normalised ({FormName(Form)})";

    internal static string FormName(NormalizationForm f) => f switch
    {
        NormalizationForm.FormC => "NFC",
        NormalizationForm.FormD => "NFD",
        NormalizationForm.FormKC => "NFKC",
        _ => "NFKD",
    };
}
