using FineTune.Kit.Data;
using FineTune.Kit.Models;
using FineTune.Kit.Preferences;
using FineTune.Kit.Tests.Models;
using FineTune.Kit.Text;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Preferences;

public class PreferenceDataTests
{
    private static string Write(params string[] lines)
    {
        var path = Path.Combine(TempFolder.Fresh(), "prefs.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Bad_rows_are_reported_together_each_with_its_line()
    {
        var path = Write(
            """{"prompt":"my parcel never arrived","chosen":"please refund","rejected":"great service"}""",
            """{"prompt":"my parcel never arrived","chosen":"please refund"}""",
            """{"prompt":"the thermostat","chosen":"the update","rejected":"the update"}""",
            """{"prompt":"the thermostat","chosen":"  ","rejected":"the update"}""",
            """{"prompt":"the thermostat","chosen":"the update","rejected":7}""");
        var e = Assert.Throws<DataFormatException>(() => PreferenceData.From(path, TinyTokenized.Tokenizer()));
        Assert.Contains("4 invalid preference rows", e.Message);
        Assert.Contains($"{path}:2: expected string keys", e.Message);
        Assert.Contains("\"rejected\"", e.Message.Split('\n').Single(l => l.Contains(":2:")));
        Assert.Contains($"{path}:3: \"chosen\" and \"rejected\" are the same text", e.Message);
        Assert.Contains($"{path}:4: the chosen response is empty", e.Message);
        Assert.Contains($"{path}:5: expected string keys", e.Message);
        Assert.DoesNotContain(":1:", e.Message);
    }

    [Fact]
    public void Pairs_cut_by_the_length_limit_are_kept_and_reported()
    {
        var tok = TinyTokenized.Tokenizer();
        var path = Write(
            """{"prompt":"my parcel","chosen":"please refund the double charge on my card","rejected":"great"}""",
            """{"prompt":"my parcel","chosen":"ok","rejected":"no"}""");
        int prompt = tok.Encode("my parcel").Count, longResponse = tok.Encode("please refund the double charge on my card").Count + 1;
        int limit = prompt + 4;
        var data = PreferenceData.From(path, tok, maxLength: limit);
        Assert.Equal(2, data.Count);
        var cut = Assert.Single(data.Truncated);
        Assert.Equal(1, cut.Line);
        Assert.Equal(longResponse - 4, cut.ChosenTokensCut);
        Assert.Equal(0, cut.RejectedTokensCut);
        Assert.Equal(4, data.Pairs[0].Chosen.Length);
        Assert.Contains("cut to", data.Summary());
        // a prompt that leaves no room for a response is an error naming the line
        var e = Assert.Throws<DataFormatException>(() => PreferenceData.From(path, tok, maxLength: prompt));
        Assert.Contains($"{path}:1: the prompt alone is {prompt} tokens", e.Message);
    }

    [Fact]
    public void Plain_format_is_prompt_then_response_then_end_of_sequence()
    {
        var tok = TinyTokenized.Tokenizer();
        var data = PreferenceData.From(Write("""{"prompt":"my parcel","chosen":"please refund","rejected":"great service"}"""), tok);
        var pair = data.Pairs[0];
        Assert.Equal(tok.Encode("my parcel").Select(i => (long)i), pair.Prompt);
        Assert.Equal(tok.Encode("please refund").Select(i => (long)i).Append(tok.EosId!.Value), pair.Chosen);
    }

    [Fact]
    public void Chat_template_puts_the_turn_headers_in_the_prompt_and_the_turn_end_in_the_response()
    {
        var tok = TinyTokenized.Tokenizer();
        var data = PreferenceData.From(Write("""{"prompt":"my parcel","chosen":"please refund","rejected":"great service"}"""), tok, chatTemplate: ChatTemplate.Plain);
        var pair = data.Pairs[0];
        var rendered = ChatTemplate.Plain.Render([ChatMessage.User("my parcel"), ChatMessage.Assistant("please refund")]);
        var all = pair.Prompt.Concat(pair.Chosen).Select(i => (int)i).ToList();
        Assert.Equal(rendered.Text, tok.Decode(all));
        Assert.EndsWith("Assistant: ", tok.Decode(pair.Prompt.Select(i => (int)i)));
        Assert.Equal("please refund\n", tok.Decode(pair.Chosen.Select(i => (int)i)));
    }

    [Fact]
    public void Response_log_probabilities_sum_over_response_tokens_only_and_ignore_padding()
    {
        using var model = TinyModels.Random(TinyModels.Llama(), seed: 4);
        long[] promptA = [1, 2, 3], responseA = [4, 5];
        long[] promptB = [6], responseB = [7, 8, 9, 10];
        using var _ = no_grad();
        using var lp = ResponseLogProbs.Compute(model, [(promptA, responseA), (promptB, responseB)]);
        var summed = lp.Summed().data<float>().ToArray();
        Assert.Equal(HandLogProbs.Sum(model, promptA, responseA), summed[0], 4);
        Assert.Equal(HandLogProbs.Sum(model, promptB, responseB), summed[1], 4);
        Assert.Equal(new float[] { 2, 4 }, lp.Lengths().data<float>().ToArray());
    }
}
