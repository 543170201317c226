using System.Globalization;
using System.Text;

namespace FineTune.Kit.Sample;

/// <summary>A customer of the fictional company: the same customer id always has the same name, city and plan.</summary>
internal sealed record Customer(string Id, string FirstName, string LastName, string City, string Plan, string Currency);

/// <summary>
/// The concrete details one ticket is about (product, order, amounts, dates, symptoms). Templates refer to them as
/// {slot}; <see cref="Fill"/> substitutes them.
/// </summary>
internal sealed class TicketFacts
{
    private readonly Dictionary<string, string> slots;

    public TicketFacts(Random rng, Customer customer, ProductLine product)
    {
        Customer = customer;
        Product = product;
        var device = SupportDomain.Products.Where(p => !p.IsService).ToArray().Pick(rng);
        var model = product.Models.Pick(rng);
        var otherModel = product.Models.Where(m => m != model).ToArray().Pick(rng);
        var amount = Amount(rng, customer.Currency);
        var fix = product.Fixes.Pick(rng);
        var fix2 = product.Fixes.Where(x => x != fix).ToArray().Pick(rng);
        slots = new Dictionary<string, string>
        {
            ["first"] = customer.FirstName,
            ["last"] = customer.LastName,
            ["city"] = rng.Next(4) == 0 ? SupportDomain.Cities.Pick(rng) : customer.City,
            ["product"] = product.Name,
            ["kind"] = product.Kind,
            ["model"] = model,
            ["model2"] = otherModel,
            // For a device ticket "the device" is the product itself; for a service it is something else they own.
            ["device"] = product.IsService ? device.Models.Pick(rng) : model,
            ["plan"] = customer.Plan,
            ["order"] = $"LH-{rng.Next(100000, 999999)}",
            ["tracking"] = $"LP{rng.Next(10, 99)}{rng.Next(1000000, 9999999)}NL",
            ["amount"] = amount,
            ["amount2"] = Amount(rng, customer.Currency),
            ["date"] = Date(rng),
            ["date2"] = Date(rng),
            ["month"] = SupportDomain.Months.Pick(rng),
            ["days"] = rng.Next(3, 22).ToString(CultureInfo.InvariantCulture),
            ["years"] = rng.Next(2, 9).ToString(CultureInfo.InvariantCulture),
            ["symptom"] = product.Symptoms.Pick(rng),
            ["feature"] = product.Features.Pick(rng),
            ["fix"] = fix,
            ["fix2"] = fix2,
            ["error"] = $"{"EMP"[rng.Next(3)]}-{rng.Next(10, 99)}",
            ["agent"] = SupportDomain.AgentNames.Pick(rng),
            ["company"] = SupportDomain.Company,
            ["ticketno"] = rng.Next(200000, 299999).ToString(CultureInfo.InvariantCulture),
        };
    }

    public Customer Customer { get; }
    public ProductLine Product { get; }

    public string this[string slot] => slots[slot];

    /// <summary>Replaces every {slot} in a template.</summary>
    public string Fill(string template)
    {
        var sb = new StringBuilder(template.Length + 32);
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] == '{')
            {
                var end = template.IndexOf('}', i);
                var key = template[(i + 1)..end];
                sb.Append(slots.TryGetValue(key, out var v) ? v : throw new InvalidOperationException($"template slot '{key}' unknown"));
                i = end;
            }
            else sb.Append(template[i]);
        }
        return sb.ToString();
    }

    private static string Amount(Random rng, string currency)
    {
        var value = (rng.Next(4, 60) * 5 - 1) + rng.Next(0, 2) * 0.5m;
        var text = value.ToString("0.00", CultureInfo.InvariantCulture);
        return currency switch
        {
            "EUR" => rng.Next(2) == 0 ? $"€{text}" : $"{text.Replace('.', ',')} EUR",
            "GBP" => $"£{text}",
            _ => $"${text}",
        };
    }

    private static string Date(Random rng)
    {
        var month = SupportDomain.Months.Pick(rng);
        var day = rng.Next(1, 29);
        return rng.Next(6) switch
        {
            0 => $"{month} {day}",
            1 => $"{day} {month}",
            2 => $"{SupportDomain.Weekdays.Pick(rng)} the {day}{Ordinal(day)}",
            3 => $"{rng.Next(1, 13)}/{day}",
            4 => $"the {day}{Ordinal(day)} of {month}",
            _ => $"{SupportDomain.Weekdays.Pick(rng)} {day} {month}",
        };
    }

    private static string Ordinal(int day) => day switch { 1 or 21 => "st", 2 or 22 => "nd", 3 or 23 => "rd", _ => "th" };
}

internal static class RandomPicks
{
    /// <summary>A uniformly chosen element.</summary>
    public static T Pick<T>(this IReadOnlyList<T> items, Random rng) => items[rng.Next(items.Count)];

    /// <summary>A uniformly chosen element.</summary>
    public static T Pick<T>(this T[] items, Random rng) => items[rng.Next(items.Length)];

    /// <summary>True with the given probability.</summary>
    public static bool Chance(this Random rng, double p) => rng.NextDouble() < p;
}
