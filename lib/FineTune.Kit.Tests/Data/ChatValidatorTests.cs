using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;

namespace FineTune.Kit.Tests.Data;

public class ChatValidatorTests
{
    private static Dataset Chat(TempFolder dir, params string[] lines) => Dataset.FromJsonl(dir.File("chat.jsonl", string.Join("\n", lines)), OnError.Skip);

    [Fact]
    public void Each_openai_check_is_reported_on_its_line()
    {
        using var dir = new TempFolder();
        var data = Chat(dir,
            """{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello there"}]}""",
            """{"prompt":"no messages"}""",
            """{"messages":[{"content":"who am i"},{"role":"assistant","content":"x"}]}""",
            """{"messages":[{"role":"user","content":"hi","mood":"happy"},{"role":"assistant","content":"x"}]}""",
            """{"messages":[{"role":"robot","content":"beep"},{"role":"assistant","content":"x"}]}""",
            """{"messages":[{"role":"user","content":""},{"role":"assistant","content":"x"}]}""",
            """{"messages":[{"role":"user","content":"only a question"}]}""",
            """[1, 2]""");
        var report = ChatValidator.Validate(data);
        Assert.Equal(
            [(2, "missing_messages_list"), (3, "message_missing_key"), (4, "message_unrecognized_key"), (5, "unrecognized_role"),
             (6, "missing_content"), (7, "example_missing_assistant_message"), (8, "data_type")],
            report.Issues.Select(i => (i.Line, i.Kind)));
        Assert.False(report.IsValid);
        Assert.Equal(1, report.Counts["unrecognized_role"]);
    }

    [Fact]
    public void Token_counts_follow_the_per_message_overhead_and_flag_long_rows()
    {
        using var dir = new TempFolder();
        var data = Chat(dir,
            """{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"one two three"},{"role":"assistant","content":"four five"}]}""",
            """{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b","name":"bot"}]}""");
        var report = ChatValidator.Validate(data, TokenCounters.Whitespace, contextLimit: 15);
        // row 1: 3 + (3+2) + (3+3) + (3+2) = 19; row 2: 3 + (3+1) + (3+1+1) = 12
        Assert.Equal((12, 19), (report.Tokens.Min, report.Tokens.Max));
        Assert.Equal(15.5, report.Tokens.Mean);
        Assert.Equal((2, 1), (report.AssistantTokens.Max, report.AssistantTokens.Min));
        Assert.Equal([(1, 19)], report.OverContextLimit);
        Assert.Equal([19, 12], report.TokenCounts);
        Assert.Contains("Tokens per conversation", FineTune.Kit.Plots.HtmlPage.ChartFragment(report.Chart()));
    }

    [Fact]
    public void Validate_chat_rule_drops_bad_rows_with_reasons()
    {
        using var dir = new TempFolder();
        var data = Chat(dir,
            """{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}""",
            """{"messages":[{"role":"user","content":"hi"}]}""");
        var outcome = new ValidateChatRule().Apply(data.Rows);
        Assert.Single(outcome.Kept);
        Assert.StartsWith("example_missing_assistant_message", Assert.Single(outcome.Changes).Reason);
    }
}
