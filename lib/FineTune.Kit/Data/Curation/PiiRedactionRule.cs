using System.Net;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTune.Kit.Data.Curation;

/// <summary>Kinds of personal data the redactor looks for.</summary>
[Flags]
public enum PiiKind
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>E-mail addresses, also inside URLs (<c>?email=a@b.com</c>, <c>mailto:</c>).</summary>
    Email = 1,

    /// <summary>Phone numbers: 7 to 15 digits with the usual separators, optional +country code; dates are not phones.</summary>
    Phone = 2,

    /// <summary>Card numbers of 13 to 19 digits (spaces or dashes allowed) that pass the Luhn check.</summary>
    CreditCard = 4,

    /// <summary>IBANs whose mod-97 check gives 1.</summary>
    Iban = 8,

    /// <summary>IPv4 addresses (octets up to 255) and IPv6 addresses.</summary>
    Ip = 16,

    /// <summary>All of the above.</summary>
    All = Email | Phone | CreditCard | Iban | Ip,
}

/// <summary>
/// Replaces personal data with typed placeholders: <c>[EMAIL]</c>, <c>[PHONE]</c>, <c>[CREDIT_CARD]</c>, <c>[IBAN]</c>,
/// <c>[IP]</c>. Numbers only count as cards or IBANs when their check digits are valid, so order numbers and other long
/// digit runs stay. Patterns are checked in the order e-mail, IBAN, card, IP, phone; a span claimed by one is not
/// matched again. Regular expressions miss what they were not written for (names, street addresses): treat this as a
/// first pass, not a guarantee.
/// </summary>
public sealed partial class PiiRedactionRule(PiiKind kinds = PiiKind.All, IReadOnlyList<string>? columns = null) : TextTransformRule(columns)
{
    /// <summary>The kinds redacted.</summary>
    public PiiKind Kinds { get; } = kinds;

    /// <inheritdoc/>
    public override string Name => "redact_pii";

    /// <summary>A match found in a text.</summary>
    public readonly record struct Finding(int Start, int Length, PiiKind Kind);

    /// <inheritdoc/>
    public override string Transform(string text) => Redact(text, out _);

    /// <summary>Redacts a text and returns what was found.</summary>
    public string Redact(string text, out IReadOnlyList<Finding> findings)
    {
        var found = Find(text);
        findings = found;
        if (found.Count == 0) return text;
        var sb = new StringBuilder(text.Length);
        int at = 0;
        foreach (var f in found)
        {
            sb.Append(text, at, f.Start - at).Append(Placeholder(f.Kind));
            at = f.Start + f.Length;
        }
        return sb.Append(text, at, text.Length - at).ToString();
    }

    /// <summary>The non-overlapping findings in a text, by position.</summary>
    public List<Finding> Find(string text)
    {
        var claimed = new List<Finding>();
        void Claim(Regex regex, PiiKind kind, Func<string, bool> accept)
        {
            if ((Kinds & kind) == 0) return;
            foreach (Match m in regex.Matches(text))
            {
                if (!accept(m.Value)) continue;
                if (claimed.Any(c => m.Index < c.Start + c.Length && c.Start < m.Index + m.Length)) continue;
                claimed.Add(new Finding(m.Index, m.Length, kind));
            }
        }
        Claim(EmailPattern(), PiiKind.Email, _ => true);
        Claim(IbanPattern(), PiiKind.Iban, IsValidIban);
        Claim(CardPattern(), PiiKind.CreditCard, v => PassesLuhn(Digits(v)));
        Claim(Ipv4Pattern(), PiiKind.Ip, _ => true);
        Claim(Ipv6Pattern(), PiiKind.Ip, v => v.Any(char.IsAsciiHexDigit) && IPAddress.TryParse(v, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
        Claim(PhonePattern(), PiiKind.Phone, IsPhone);
        claimed.Sort((a, b) => a.Start.CompareTo(b.Start));
        return claimed;
    }

    /// <summary>The placeholder for a kind.</summary>
    public static string Placeholder(PiiKind kind) => kind switch
    {
        PiiKind.Email => "[EMAIL]",
        PiiKind.Phone => "[PHONE]",
        PiiKind.CreditCard => "[CREDIT_CARD]",
        PiiKind.Iban => "[IBAN]",
        PiiKind.Ip => "[IP]",
        _ => "[PII]",
    };

    /// <summary>The Luhn check used by payment cards: double every second digit from the right, sum must end in 0.</summary>
    public static bool PassesLuhn(string digits)
    {
        if (digits.Length == 0) return false;
        int sum = 0;
        for (int i = 0; i < digits.Length; i++)
        {
            int d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1) { d *= 2; if (d > 9) d -= 9; }
            sum += d;
        }
        return sum % 10 == 0;
    }

    /// <summary>ISO 13616 check: move the first four characters to the end, letters to 10..35, the number mod 97 must be 1.</summary>
    public static bool IsValidIban(string candidate)
    {
        var s = candidate.Replace(" ", "").ToUpperInvariant();
        if (s.Length is < 15 or > 34 || !char.IsAsciiLetter(s[0]) || !char.IsAsciiLetter(s[1]) || !char.IsAsciiDigit(s[2]) || !char.IsAsciiDigit(s[3]))
            return false;
        int remainder = 0;
        foreach (var c in s[4..] + s[..4])
        {
            if (char.IsAsciiDigit(c)) remainder = (remainder * 10 + (c - '0')) % 97;
            else if (char.IsAsciiLetterUpper(c)) remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
            else return false;
        }
        return remainder == 1;
    }

    private static bool IsPhone(string v)
    {
        int digits = v.Count(char.IsAsciiDigit);
        if (digits is < 7 or > 15) return false;
        if (DatePattern().IsMatch(v)) return false;
        // a number without any separator or plus is more likely an id than a phone unless it is long enough
        return v.Any(c => c is ' ' or '-' or '.' or '(' or '+') || digits >= 10;
    }

    private static string Digits(string v) => new(v.Where(char.IsAsciiDigit).ToArray());

    private static string Describe(IEnumerable<Finding> findings) =>
        "redacted " + string.Join(", ", findings.GroupBy(f => f.Kind).OrderBy(g => g.Key).Select(g => $"{g.Count()} {Placeholder(g.Key).Trim('[', ']')}"));

    /// <inheritdoc/>
    protected override string Describe(string before, string after) => Describe(Find(before));

    [GeneratedRegex(@"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b")]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")]
    private static partial Regex IbanPattern();

    [GeneratedRegex(@"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")]
    private static partial Regex CardPattern();

    [GeneratedRegex(@"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.]|\.\d)")]
    private static partial Regex Ipv4Pattern();

    [GeneratedRegex(@"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")]
    private static partial Regex Ipv6Pattern();

    [GeneratedRegex(@"(?<![\w.+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,5}){0,4}(?![\w])")]
    private static partial Regex PhonePattern();

    [GeneratedRegex(@"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")]
    private static partial Regex DatePattern();
}
