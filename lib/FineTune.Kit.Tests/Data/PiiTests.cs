using FineTune.Kit.Data.Curation;

namespace FineTune.Kit.Tests.Data;

public class PiiTests
{
    private readonly PiiRedactionRule _rule = new();

    [Theory]
    [InlineData("mail me at john.doe+tag@example.co.uk please", "mail me at [EMAIL] please")]
    [InlineData("see https://shop.example.com/unsubscribe?email=jane@example.org&x=1", "see https://shop.example.com/unsubscribe?email=[EMAIL]&x=1")]
    [InlineData("<a href=\"mailto:support@acme.io\">", "<a href=\"mailto:[EMAIL]\">")]
    [InlineData("profile https://medium.com/@writer/post-1", "profile https://medium.com/@writer/post-1")]
    [InlineData("twitter handle @someone", "twitter handle @someone")]
    public void Emails_including_those_inside_urls(string input, string expected) => Assert.Equal(expected, _rule.Transform(input));

    [Theory]
    [InlineData("card 4111 1111 1111 1111 charged", "card [CREDIT_CARD] charged")]
    [InlineData("card 4111-1111-1111-1111", "card [CREDIT_CARD]")]
    [InlineData("amex 378282246310005", "amex [CREDIT_CARD]")]
    [InlineData("order 4111 1111 1111 1112 shipped", "order 4111 1111 1111 1112 shipped")] // fails Luhn
    [InlineData("tracking 1234567890123456", "tracking 1234567890123456")]               // fails Luhn
    public void Cards_only_when_luhn_valid(string input, string expected) => Assert.Equal(expected, _rule.Transform(input));

    [Fact]
    public void Luhn_matches_hand_computation()
    {
        // 79927398713: the textbook example (sum 70)
        Assert.True(PiiRedactionRule.PassesLuhn("79927398713"));
        Assert.False(PiiRedactionRule.PassesLuhn("79927398710"));
    }

    [Theory]
    [InlineData("pay to DE89 3704 0044 0532 0130 00 today", "pay to [IBAN] today")]
    [InlineData("GB82WEST12345698765432", "[IBAN]")]
    [InlineData("bad DE89 3704 0044 0532 0130 01 here", "bad DE89 3704 0044 0532 0130 01 here")] // mod 97 != 1
    public void Iban_with_mod97(string input, string expected) => Assert.Equal(expected, _rule.Transform(input));

    [Fact]
    public void Iban_check_by_hand()
    {
        Assert.True(PiiRedactionRule.IsValidIban("GB82 WEST 1234 5698 7654 32"));
        Assert.False(PiiRedactionRule.IsValidIban("GB83 WEST 1234 5698 7654 32"));
    }

    [Theory]
    [InlineData("server 192.168.0.1 down", "server [IP] down")]
    [InlineData("v6 2001:db8::8a2e:370:7334 ok", "v6 [IP] ok")]
    [InlineData("version 1.2.3.4.5 and 256.1.1.1", "version 1.2.3.4.5 and 256.1.1.1")]
    [InlineData("meet at 12:30:45", "meet at 12:30:45")]
    [InlineData("scope a :: b", "scope a :: b")]
    [InlineData("loopback ::1 here", "loopback [IP] here")]
    public void Ip_addresses(string input, string expected) => Assert.Equal(expected, _rule.Transform(input));

    [Theory]
    [InlineData("call +1 415-555-0134 now", "call [PHONE] now")]
    [InlineData("call (030) 1234 5678", "call [PHONE]")]
    [InlineData("ring 0151.2345.6789", "ring [PHONE]")]
    [InlineData("on 2024-03-15 we", "on 2024-03-15 we")]
    [InlineData("order 12345 costs 99.50", "order 12345 costs 99.50")]
    public void Phones_but_not_dates_or_short_numbers(string input, string expected) => Assert.Equal(expected, _rule.Transform(input));

    [Fact]
    public void Kinds_can_be_chosen_and_reason_lists_what_was_redacted()
    {
        Assert.Equal("a@b.com [IP]", new PiiRedactionRule(PiiKind.Ip).Transform("a@b.com 10.0.0.1"));
        var outcome = _rule.Apply(FineTune.Kit.Data.Dataset.FromTexts(["x@y.org and z@w.org from 10.0.0.1"]).Rows);
        Assert.Equal("redacted 2 EMAIL, 1 IP", Assert.Single(outcome.Changes).Reason);
    }
}
