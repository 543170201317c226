using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Data;

public class LoaderTests
{
    [Fact]
    public void Jsonl_with_bom_and_blank_lines_keeps_source_line_numbers()
    {
        using var dir = new TempFolder();
        var path = dir["a.jsonl"];
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes("{\"text\":\"é\"}\n\n{\"text\":\"b\",\"label\":\"x\"}\r\n")]);
        var data = Dataset.FromJsonl(path);
        Assert.Equal(2, data.Count);
        Assert.Equal("é", data[0]["text"]);  // BOM not glued to the first key
        Assert.Equal([1, 3], data.Rows.Select(r => r.Line));
        Assert.Equal("x", data[1]["label"]);
    }

    [Fact]
    public void Malformed_jsonl_line_fails_naming_file_and_line_by_default()
    {
        using var dir = new TempFolder();
        var path = dir.File("bad.jsonl", "{\"text\":\"a\"}\n{\"text\": oops}\n[1,2]\n");
        var e = Assert.Throws<DataFormatException>(() => Dataset.FromJsonl(path));
        Assert.Contains("bad.jsonl:2:", e.Message);
    }

    [Fact]
    public void Skip_collects_malformed_lines_with_reasons()
    {
        using var dir = new TempFolder();
        var path = dir.File("bad.jsonl", "{\"text\":\"a\"}\n{\"text\": oops}\n[1,2]\n\"str\"\n{\"text\":\"b\"}\n");
        var data = Dataset.FromJsonl(path, OnError.Skip);
        Assert.Equal(2, data.Count);
        Assert.Equal([2, 3, 4], data.InvalidRows.Select(r => r.Line));
        Assert.Contains("invalid JSON", data.InvalidRows[0].Error);
        Assert.Contains("expected a JSON object, got array", data.InvalidRows[1].Error);
        Assert.Contains("got string", data.InvalidRows[2].Error);
    }

    [Fact]
    public void Invalid_utf8_is_an_error_on_its_line()
    {
        using var dir = new TempFolder();
        var path = dir["u.jsonl"];
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes("{\"text\":\"ok\"}\n{\"text\":\""), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}\n")]);
        Assert.Contains("u.jsonl:2: invalid UTF-8", Assert.Throws<DataFormatException>(() => Dataset.FromJsonl(path)).Message);
        var data = Dataset.FromJsonl(path, OnError.Skip);
        Assert.Single(data.Rows);
        Assert.Equal(2, data.InvalidRows.Single().Line);
    }

    [Fact]
    public void Csv_reads_quoted_commas_doubled_quotes_and_multiline_fields()
    {
        using var dir = new TempFolder();
        var path = dir.File("a.csv", "\uFEFFtext,label\r\n\"Hello, world\",greet\r\n\"She said \"\"hi\"\"\",quote\r\n\"line one\nline two\",multi\r\nplain,last\r\n");
        var data = Dataset.FromCsv(path);
        Assert.Equal(4, data.Count);
        Assert.Equal("Hello, world", data[0]["text"]);
        Assert.Equal("She said \"hi\"", data[1]["text"]);
        Assert.Equal("line one\nline two", data[2]["text"]);
        Assert.Equal([2, 3, 4, 6], data.Rows.Select(r => r.Line)); // the multi-line record spans lines 4-5
    }

    [Fact]
    public void Csv_errors_name_the_line_and_skip_resumes_on_the_next_record()
    {
        using var dir = new TempFolder();
        var path = dir.File("b.csv", "text,label\na,b\nonly-one-field\nx\"y,z\nfine,row\n");
        Assert.Contains("b.csv:3:", Assert.Throws<DataFormatException>(() => Dataset.FromCsv(path)).Message);
        var data = Dataset.FromCsv(path, OnError.Skip);
        Assert.Equal(["a", "fine"], data.Rows.Select(r => r["text"]));
        Assert.Equal([3, 4], data.InvalidRows.Select(r => r.Line));
        Assert.Contains("expected 2 fields", data.InvalidRows[0].Error);
        Assert.Contains("quote inside an unquoted field", data.InvalidRows[1].Error);
    }

    [Fact]
    public void Csv_unterminated_quote_is_reported()
    {
        using var dir = new TempFolder();
        var path = dir.File("c.csv", "text\nok\n\"never closed\nstill open\n");
        var e = Assert.Throws<DataFormatException>(() => Dataset.FromCsv(path));
        Assert.Contains("c.csv:3:", e.Message);
        Assert.Contains("unterminated", e.Message);
    }

    [Fact]
    public void Csv_invalid_utf8_names_the_line()
    {
        using var dir = new TempFolder();
        var path = dir["u.csv"];
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes("text\nok\n"), 0xFF, .. Encoding.UTF8.GetBytes("bad\n")]);
        Assert.Contains("u.csv:3: invalid UTF-8", Assert.Throws<DataFormatException>(() => Dataset.FromCsv(path)).Message);
    }

    [Fact]
    public void Csv_round_trip_preserves_awkward_values()
    {
        using var dir = new TempFolder();
        string[] texts = ["a,b", "quote \" inside", "multi\nline", " edge spaces ", "", "plain"];
        Dataset.FromTexts(texts, texts.Select((_, i) => $"l{i}")).ToCsv(dir["out.csv"]);
        var back = Dataset.FromCsv(dir["out.csv"]);
        Assert.Equal(texts, back.Rows.Select(r => r["text"]));
        Assert.Equal(texts.Select((_, i) => $"l{i}"), back.Rows.Select(r => r["label"]));
    }

    [Fact]
    public void Jsonl_round_trip_preserves_nested_values_and_unicode()
    {
        using var dir = new TempFolder();
        var original = Dataset.FromObjects([
            new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Grüße 👋" }), ["n"] = 3 },
            new JsonObject { ["text"] = "line\nbreak \"q\"" },
        ]);
        original.ToJsonl(dir["o.jsonl"]);
        var back = Dataset.FromJsonl(dir["o.jsonl"]);
        Assert.Equal(original.Rows.Select(r => r.ToJson()), back.Rows.Select(r => r.ToJson()));
        Assert.Contains("Grüße", File.ReadAllText(dir["o.jsonl"])); // written readable, not \u-escaped
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp")); // atomic write left no temporary file
    }

    [Fact]
    public void Frame_shows_every_column_with_the_source_line()
    {
        var data = Dataset.FromObjects([new JsonObject { ["text"] = "a", ["label"] = "x" }, new JsonObject { ["text"] = "b", ["n"] = 2 }]);
        var frame = data.Frame;
        Assert.Equal(2, frame.Rows.Count);
        Assert.Equal(["line", "text", "label", "n"], frame.Columns.Select(c => c.Name));
        Assert.Null(frame.Columns["label"][1]);
        Assert.Equal("2", frame.Columns["n"][1]);
        Assert.Equal(2, frame.Columns["line"][1]);
    }

    [Fact]
    public void Typed_views_read_the_common_shapes_and_name_bad_rows()
    {
        var chat = Dataset.FromObjects([new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }, new JsonObject { ["role"] = "assistant", ["content"] = "hello" }),
        }]);
        Assert.Equal(DatasetShape.Chat, chat.Shape);
        Assert.Equal("hello", chat.AsChat()[0].Messages[1].Content);
        var pref = Dataset.FromObjects([new JsonObject { ["prompt"] = "p", ["chosen"] = "c", ["rejected"] = "r" }]);
        Assert.Equal(DatasetShape.Preference, pref.Shape);
        Assert.Equal("r", pref.AsPreference()[0].Rejected);
        var pc = Dataset.FromObjects([new JsonObject { ["prompt"] = "p", ["completion"] = "c" }, new JsonObject { ["prompt"] = "p" }]);
        Assert.Equal(DatasetShape.PromptCompletion, pc.Shape);
        Assert.Contains(":2: expected a string column 'completion'", Assert.Throws<DataFormatException>(() => pc.AsPromptCompletion()).Message);
        Assert.Equal("x", Dataset.FromTexts(["t"], ["x"]).AsText()[0].Label);
    }
}
