using System.Globalization;
using System.Text;

namespace FineTune.Kit.Sample;

/// <summary>
/// The kinds of mess a real ticket export has, applied to clean tickets so the curation stage has something to find:
/// HTML, personal data (valid-looking cards, IBANs, emails, phones, IPs), near-duplicate edits and label typos.
/// </summary>
internal static class Dirt
{
    private static readonly string[] MailDomains = ["example.com", "mail.example.org", "inbox.example.net", "post.example"];

    private static readonly Dictionary<string, string[]> LabelTypos = new()
    {
        ["billing"] = ["Billing ", "BILLING", "billing."],
        ["shipping_delay"] = ["shipping delay", "Shipping_Delay", "shipping-delay"],
        ["refund_request"] = ["refund-request", "Refund_Request", "refund request"],
        ["technical_issue"] = ["technical-issue", "Technical Issue", "technical_isue"],
        ["account_access"] = ["account_acces", "Account_Access", "account access"],
        ["product_question"] = ["product question", "Product_Question", " product_question"],
        ["cancellation"] = ["Cancellation", "cancelation", "cancellation "],
        ["feedback"] = [" feedback", "Feedback", "feed_back"],
    };

    /// <summary>A label as someone typed it by hand.</summary>
    public static string MistypeLabel(Random rng, string label) => LabelTypos[label].Pick(rng);

    /// <summary>Wraps or sprinkles the text with HTML from a web form or email export.</summary>
    public static string AddHtml(Random rng, string text)
    {
        var html = text.Replace("\n\n", "</p><p>").Replace("\n", "<br>");
        if (rng.Chance(0.5)) html = html.Replace(" and ", " &amp; ");
        if (rng.Chance(0.5)) html = html.Replace("'", "&#39;");
        if (rng.Chance(0.3)) html = html.Replace(". ", ".&nbsp; ");
        return rng.Next(3) switch
        {
            0 => $"<p>{html}</p>",
            1 => $"<div class=\"message\"><p>{html}</p><br></div>",
            _ => $"{html}<br><br><i>Sent from my phone</i>",
        };
    }

    /// <summary>Adds a sentence with personal data (what a redaction step must catch).</summary>
    public static string AddPii(Random rng, string text, Customer c)
    {
        var email = $"{c.FirstName.ToLowerInvariant()}.{c.LastName.ToLowerInvariant().Replace(" ", "").Replace("'", "")}@{MailDomains.Pick(rng)}";
        var sentence = rng.Next(6) switch
        {
            0 => $"You can reach me at {email} or {Phone(rng)}.",
            1 => $"My card number is {CardNumber(rng)}, expiry {rng.Next(1, 13):00}/{rng.Next(26, 31)}.",
            2 => $"Please send the money to IBAN {Iban(rng)}.",
            3 => $"My router's public IP is {Ip(rng)} if that helps.",
            4 => $"Call me on {Phone(rng)}, I'm available after 5pm.",
            _ => $"The account email is {email} and the card ends in {CardNumber(rng)[^4..]}.",
        };
        return rng.Chance(0.5) ? text + " " + sentence : sentence + " " + text;
    }

    /// <summary>A small edit that keeps the meaning: what a resubmitted or copy-pasted ticket looks like.</summary>
    public static string NearDuplicate(Random rng, string text)
    {
        var edited = rng.Next(6) switch
        {
            0 => text.ToLowerInvariant(),
            1 => text.TrimEnd('.', '!', '?') + "!!",
            2 => text + " Thanks.",
            3 => text.Replace(" ", "  ", StringComparison.Ordinal).Trim(),
            4 => text.Replace("I'm", "I am").Replace("don't", "do not").Replace("can't", "cannot") + " Please help.",
            _ => SwapLetters(rng, text),
        };
        return edited == text ? text + " ?" : edited;
    }

    /// <summary>A pasted device log or a reply chain: far longer than a ticket should be.</summary>
    public static string OverLong(Random rng, string text)
    {
        var sb = new StringBuilder(text).Append("\n\n--- diagnostic log ---\n");
        var t = 1_700_000_000L + rng.Next(0, 10_000_000);
        while (sb.Length < 6000)
        {
            t += rng.Next(1, 90);
            sb.Append(CultureInfo.InvariantCulture, $"{t} [{(rng.Chance(0.8) ? "INFO" : "WARN")}] net.{(rng.Chance(0.5) ? "wlan0" : "eth0")} rssi=-{rng.Next(40, 90)} retries={rng.Next(0, 9)}\n");
        }
        return sb.ToString();
    }

    /// <summary>A 16-digit card number that passes the Luhn check.</summary>
    public static string CardNumber(Random rng)
    {
        var digits = new int[16];
        digits[0] = rng.Chance(0.6) ? 4 : 5;
        for (var i = 1; i < 15; i++) digits[i] = rng.Next(10);
        var sum = 0;
        // Luhn: double every second digit from the right, starting with the one left of the check digit.
        for (var i = 14; i >= 0; i--)
        {
            var d = digits[i];
            if ((14 - i) % 2 == 0) { d *= 2; if (d > 9) d -= 9; }
            sum += d;
        }
        digits[15] = (10 - sum % 10) % 10;
        var s = string.Concat(digits);
        return rng.Chance(0.5) ? $"{s[..4]} {s[4..8]} {s[8..12]} {s[12..]}" : s;
    }

    /// <summary>A Dutch or German IBAN with a valid mod-97 check.</summary>
    public static string Iban(Random rng)
    {
        string country, bban;
        if (rng.Chance(0.5)) { country = "NL"; bban = new[] { "ABNA", "INGB", "RABO" }.Pick(rng) + Digits(rng, 10); }
        else { country = "DE"; bban = Digits(rng, 18); }
        var check = 98 - Mod97(bban + country + "00");
        var iban = $"{country}{check:00}{bban}";
        return rng.Chance(0.5) ? string.Join(' ', Enumerable.Range(0, (iban.Length + 3) / 4).Select(i => iban.Substring(i * 4, Math.Min(4, iban.Length - i * 4)))) : iban;
    }

    /// <summary>Whether a string of digits passes the Luhn check (spaces ignored).</summary>
    public static bool IsLuhnValid(string number)
    {
        var digits = number.Where(char.IsDigit).Select(c => c - '0').ToArray();
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i];
            if (i % 2 == 1) { d *= 2; if (d > 9) d -= 9; }
            sum += d;
        }
        return digits.Length > 0 && sum % 10 == 0;
    }

    /// <summary>Whether an IBAN's check digits are right (ISO 13616: rearranged number mod 97 is 1).</summary>
    public static bool IsIbanValid(string iban)
    {
        var s = iban.Replace(" ", "");
        return s.Length > 4 && Mod97(s[4..] + s[..4]) == 1;
    }

    private static int Mod97(string alnum)
    {
        var rem = 0;
        foreach (var c in alnum)
        {
            var v = char.IsDigit(c) ? c - '0' : c - 'A' + 10;
            rem = v < 10 ? (rem * 10 + v) % 97 : (rem * 100 + v) % 97;
        }
        return rem;
    }

    private static string Digits(Random rng, int n) => string.Concat(Enumerable.Range(0, n).Select(_ => (char)('0' + rng.Next(10))));

    private static string Phone(Random rng) => rng.Next(3) switch
    {
        0 => $"+31 6 {rng.Next(1000, 9999)} {rng.Next(1000, 9999)}",
        1 => $"+44 7700 {rng.Next(900000, 900999)}",
        _ => $"(555) {rng.Next(100, 999)}-{rng.Next(1000, 9999)}",
    };

    private static string Ip(Random rng) =>
        rng.Chance(0.5) ? $"192.168.{rng.Next(0, 3)}.{rng.Next(2, 254)}" : $"{rng.Next(11, 223)}.{rng.Next(0, 256)}.{rng.Next(0, 256)}.{rng.Next(1, 255)}";

    private static string SwapLetters(Random rng, string text)
    {
        var chars = text.ToCharArray();
        for (var tries = 0; tries < 20; tries++)
        {
            var i = rng.Next(0, Math.Max(1, chars.Length - 1));
            if (i + 1 < chars.Length && char.IsLetter(chars[i]) && char.IsLetter(chars[i + 1]) && chars[i] != chars[i + 1])
            {
                (chars[i], chars[i + 1]) = (chars[i + 1], chars[i]);
                break;
            }
        }
        return new string(chars);
    }
}
