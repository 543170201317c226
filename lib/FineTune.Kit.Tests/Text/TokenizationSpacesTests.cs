using System.Text.Json.Nodes;
using FineTune.Kit.Serving;
using FineTune.Kit.Text;

namespace FineTune.Kit.Tests.Text;

/// <summary>tokenizer_config.json's clean_up_tokenization_spaces, as transformers' decode applies it (Llama 3 sets it).</summary>
public class TokenizationSpacesTests
{
    private static TextTokenizer SampleTokenizer(bool? cleanUp)
    {
        var dir = TempFolder.Fresh();
        foreach (var file in new[] { "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json" })
            File.Copy(RepoFiles.PathOf($"data/sample/base-model/{file}"), Path.Combine(dir, file));
        var configPath = Path.Combine(dir, "tokenizer_config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config.Remove("clean_up_tokenization_spaces");
        if (cleanUp is { } value) config["clean_up_tokenization_spaces"] = value;
        File.WriteAllText(configPath, config.ToJsonString());
        return TextTokenizer.Load(dir);
    }

    private const string Spaced = "Hello , world ! I do n't know . It 's late , is n't it ? They 're here ' yes ' .";
    // " ." goes first, so the second quote is no longer followed by a space and keeps the one before it
    private const string Cleaned = "Hello, world! I don't know. It's late, isn't it? They're here'yes '.";

    [Fact]
    public void The_replacements_are_transformers_ones_in_its_order()
    {
        Assert.Equal(Cleaned, TextTokenizer.CleanUpTokenizationSpaces(Spaced));
        // " ' " goes before " 's", and each replacement runs over the text the previous one left
        Assert.Equal("a's", TextTokenizer.CleanUpTokenizationSpaces("a ' s"));
        Assert.Equal("no change here", TextTokenizer.CleanUpTokenizationSpaces("no change here"));
    }

    [Theory]
    [InlineData(true, Cleaned)]
    [InlineData(false, Spaced)]
    [InlineData(null, Spaced)]   // absent: transformers' default is off
    public void Decode_cleans_up_when_the_config_says_so_and_a_caller_can_override(bool? setting, string expected)
    {
        var tok = SampleTokenizer(setting);
        var ids = tok.Encode(Spaced);
        Assert.Equal(expected, tok.Decode(ids));
        Assert.Equal(Spaced, tok.Decode(ids, cleanUpTokenizationSpaces: false));
        Assert.Equal(Cleaned, tok.Decode(ids, cleanUpTokenizationSpaces: true));
    }

    [Fact]
    public void Streamed_pieces_join_to_the_cleaned_text_and_never_send_a_space_that_later_vanishes()
    {
        var tok = SampleTokenizer(true);
        var ids = tok.Encode(Spaced);
        var decoder = new StreamingDecoder(tok, []);
        var pieces = ids.Select(id => decoder.Push(id)).ToList();
        pieces.Add(decoder.Flush());
        Assert.True(Cleaned == string.Concat(pieces), string.Join(" | ", ids.Select(id => $"[{tok.Decode([id])}]")) + "\n" + string.Join(" | ", pieces.Select(p => $"[{p}]")));
        // every prefix released so far is a prefix of the final text
        var sent = "";
        foreach (var piece in pieces)
        {
            sent += piece;
            Assert.StartsWith(sent, Cleaned);
        }
    }
}
