using System.Text;
using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Data.Curation;
using FineTune.Kit.Io;
using FineTune.Kit.Models;
using FineTune.Kit.Tests.Data;
using FineTune.Kit.Tests.Models;

namespace FineTune.Kit.Tests.Cli;

/// <summary>Paths that used to give a wrong result without a word: each now refuses or says what happened.</summary>
public class SilentPathTests
{
    [Fact]
    public void Generation_reports_why_it_stopped_and_refuses_a_prompt_longer_than_the_context()
    {
        using var model = TinyTokenized.Llama();
        int context = model.Config.MaxPositions;
        // one position left: exactly one token can be generated, then the context is full
        var nearlyFull = Enumerable.Range(0, context).Select(i => (long)(5 + i % 50)).ToArray();
        var result = model.GenerateWithReasons([nearlyFull], new GenerationOptions { MaxNewTokens = 10, StopTokens = [] })[0];
        Assert.True(result.Reason == FinishReason.Context || result.Reason == FinishReason.Stop, result.Reason.ToString());
        if (result.Reason == FinishReason.Context) Assert.Single(result.Tokens);
        var shortRun = model.GenerateWithReasons([nearlyFull[..4]], new GenerationOptions { MaxNewTokens = 3 })[0];
        Assert.True(shortRun.Reason == FinishReason.Length ? shortRun.Tokens.Length == 3 : shortRun.Reason == FinishReason.Stop);

        var tooLong = Enumerable.Range(0, context + 1).Select(i => 5L).ToArray();
        var e = Assert.Throws<ArgumentException>(() => model.Generate([tooLong]));
        Assert.Contains($"has {context + 1} tokens, but the model reads at most {context} positions", e.Message);
    }

    [Theory]
    [InlineData(-1, 0.0, 0, 1.0, 1.0, "MaxNewTokens")]
    [InlineData(8, -1.0, 0, 1.0, 1.0, "Temperature")]
    [InlineData(8, 1.0, -5, 1.0, 1.0, "TopK")]
    [InlineData(8, 1.0, 0, 0.0, 1.0, "TopP")]
    [InlineData(8, 1.0, 0, 1.5, 1.0, "TopP")]
    [InlineData(8, 1.0, 0, 1.0, 0.0, "RepetitionPenalty")]
    [InlineData(8, double.NaN, 0, 1.0, 1.0, "Temperature")]
    public void Generation_options_out_of_range_are_refused_by_the_library_too(int maxNew, double temperature, int topK, double topP, double penalty, string name)
    {
        using var model = TinyTokenized.Llama();
        var options = new GenerationOptions { MaxNewTokens = maxNew, Temperature = temperature, TopK = topK, TopP = topP, RepetitionPenalty = penalty };
        var e = Assert.Throws<ArgumentException>(() => model.Generate([[5L, 6L]], options));
        Assert.StartsWith(name + " must be", e.Message);
    }

    [Fact]
    public void Logits_name_a_token_id_outside_the_vocabulary()
    {
        using var model = TinyTokenized.Llama();
        var e = Assert.Throws<ArgumentException>(() => model.Logits([5, -1]));
        Assert.Equal($"token id -1 at position 1 is outside the vocabulary [0, {model.Config.VocabSize})", e.Message);
    }

    [Fact]
    public void Generate_on_the_command_line_prints_finish_reason_as_json()
    {
        var dir = CliData.SavedTinyModel();
        var (exit, output, err) = CliRunner.Run("generate", "--model", dir, "--prompt", "my parcel", "--max-new-tokens", "2", "--json");
        Assert.True(exit == 0, err);
        var json = JsonNode.Parse(output)!;
        var reason = (string)json["finish_reason"]!;
        Assert.Contains(reason, new[] { "stop", "length" });
        Assert.Equal(reason == "length" ? 2 : (int)json["new_tokens"]!, (int)json["new_tokens"]!);
        Assert.True((int)json["prompt_tokens"]! > 0);
    }

    [Fact]
    public void Resume_without_a_checkpoint_says_that_training_starts_over()
    {
        var dir = CliData.SavedTinyModel();
        var data = CliData.Jsonl(CliData.Tickets(4).Select(t => new JsonObject { ["text"] = t.Text, ["label"] = t.Label }));
        var outDir = Path.Combine(TempFolder.Fresh(), "adapter");
        var (exit, output, err) = CliRunner.Run("train", "--model", dir, "--data", data, "--out", outDir, "--steps", "1", "--batch-size", "4", "--resume");
        Assert.True(exit == 0, err + output);
        Assert.Contains($"ftk train: note: --resume: no checkpoint in {Path.Combine(outDir, "checkpoints")}, so training starts from step 0", err);
    }

    [Fact]
    public void Two_spellings_of_a_label_are_named_with_their_lines()
    {
        var dir = CliData.SavedTinyModel();
        var data = CliData.Jsonl([
            new JsonObject { ["text"] = "I cannot log in", ["label"] = "account_access" },
            new JsonObject { ["text"] = "refund please", ["label"] = "refund" },
            new JsonObject { ["text"] = "password reset never arrives", ["label"] = "account access" },
        ]);
        var outDir = Path.Combine(TempFolder.Fresh(), "adapter");
        var (exit, _, err) = CliRunner.Run("train", "--model", dir, "--data", data, "--out", outDir, "--steps", "1");
        Assert.Equal(1, exit);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("labels 'account access' and 'account_access' are both verbalised as \" account access\"", err);
        Assert.Contains($"'account access' first at {data}:3, 'account_access' at {data}:1", err);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Labels_that_are_numbers_or_booleans_are_errors_naming_the_line()
    {
        var data = Dataset.FromObjects([new JsonObject { ["text"] = "a", ["label"] = "x" }, new JsonObject { ["text"] = "b", ["label"] = 7 }]);
        var e = Assert.Throws<DataFormatException>(() => data.AsText());
        Assert.Equal("dataset:2: 'label' is the number 7; expected a string (write \"7\" in quotes if it is the name of a class)", e.Message);
        Assert.Null(Dataset.NonTextValue(data.Rows[0], ["text", "label"]));
        Assert.Equal("'label' is the number 7; expected a string", Dataset.NonTextValue(data.Rows[1], ["text", "label"]));
    }

    [Fact]
    public void Curate_with_skip_lists_rows_whose_text_is_a_number_instead_of_dropping_them_as_empty()
    {
        using var dir = new TempFolder();
        var rows = Enumerable.Range(0, 12).Select(i => $$"""{"text": "ticket {{i}} about my parcel {{i * 13}}", "label": "{{(i % 2 == 0 ? "a" : "b")}}"}""").ToList();
        rows.Add("""{"text": 12345, "label": "a"}""");
        var input = dir.File("in.jsonl", string.Join("\n", rows) + "\n");
        var (code, _, err) = CliRunner.Run("curate", "--data", input, "--out", dir["out"], "--on-error", "skip");
        Assert.True(code == 0, err);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(dir["out"], "report.json")))!;
        var invalid = report["invalid_rows"]!.AsArray();
        Assert.Equal(13, (int)invalid[0]!["line"]!);
        Assert.Contains("'text' is the number 12345", (string)invalid[0]!["error"]!);
    }

    [Fact]
    public void Label_spellings_are_unified_to_the_most_frequent_one()
    {
        string[] labels = ["billing", "billing", "billing", "Billing ", "BILLING", "billing.", "shipping_delay", "shipping_delay",
                           "shipping-delay", "Shipping Delay", "account_access", "account_access", "account_acces", "other"];
        var rows = labels.Select((l, i) => new Example(new JsonObject { ["text"] = $"t{i}", ["label"] = l }, i + 1)).ToList();
        // rare: under half the largest group's 6 rows; "account_acces" (1 row) is one edit from "account_access" (2 rows, not rare)
        var rule = new UnifyLabelSpellingsRule(rareShare: 0.3);
        var outcome = rule.Apply(rows);
        var after = outcome.Kept.Select(r => r["label"]).ToArray();
        Assert.Equal(["billing", "billing", "billing", "billing", "billing", "billing", "shipping_delay", "shipping_delay",
                      "shipping_delay", "shipping_delay", "account_access", "account_access", "account_access", "other"], after);
        Assert.Equal(6, outcome.Changes.Count);
        Assert.Contains(outcome.Changes, c => c.Line == 13 && c.Reason == "label 'account_acces' -> 'account_access'");
        Assert.Equal("shipping_delay", UnifyLabelSpellingsRule.Key(" Shipping-Delay. "));
    }

    [Fact]
    public void Utf16_files_and_overlong_lines_are_named()
    {
        using var dir = new TempFolder();
        var utf16 = Path.Combine(dir.Path, "u.jsonl");
        File.WriteAllText(utf16, "{\"text\": \"a\"}\n", new UnicodeEncoding(bigEndian: true, byteOrderMark: true));
        var e = Assert.Throws<DataFormatException>(() => Dataset.FromJsonl(utf16));
        Assert.Equal($"{utf16}: the file is UTF-16 (byte-order mark FE FF, UTF-16 big-endian); save it as UTF-8", e.Message);
        var noBom = Path.Combine(dir.Path, "n.csv");
        File.WriteAllText(noBom, "text\na\n", new UnicodeEncoding(bigEndian: false, byteOrderMark: false));
        e = Assert.Throws<DataFormatException>(() => Dataset.FromCsv(noBom));
        Assert.Contains("zero bytes, so the file looks like UTF-16", e.Message);

        var longLine = "{\"text\": \"" + new string('x', Utf8LineReader.MaxLineBytes) + "\"}";
        var path = dir.File("long.jsonl", "{\"text\": \"a\"}\n" + longLine + "\n{\"text\": \"b\"}\n");
        var skipped = Dataset.FromJsonl(path, OnError.Skip);
        Assert.Equal(["a", "b"], skipped.AsText().Select(r => r.Text));
        Assert.Equal(2, Assert.Single(skipped.InvalidRows).Line);
        // a line exactly at the limit is kept
        var atLimit = new string('y', Utf8LineReader.MaxLineBytes);
        Assert.Equal(2, Utf8LineReader.ByteLines(new MemoryStream(Encoding.ASCII.GetBytes(atLimit + "\nz")), keepNewline: false).Count(l => l is not null));
        Assert.Null(Utf8LineReader.ByteLines(new MemoryStream(Encoding.ASCII.GetBytes(atLimit + "y")), keepNewline: false).Single());
    }

    [Fact]
    public void A_folder_write_cleans_what_a_killed_write_left()
    {
        var root = TempFolder.Fresh();
        var dest = Path.Combine(root, "merged");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "config.json"), "old");
        // a half-built folder of a dead process (old and new name forms), and a parked previous version still holding notes
        var deadPid = 999_999_999;
        var staleNew = Path.Combine(root, $".merged.{deadPid}.{Guid.NewGuid():N}.tmp");
        var staleOld = Path.Combine(root, $".merged.{Guid.NewGuid():N}.tmp");
        var parked = Path.Combine(root, $".merged.{deadPid}.{Guid.NewGuid():N}.tmp.old");
        foreach (var d in new[] { staleNew, staleOld, parked }) Directory.CreateDirectory(d);
        File.WriteAllBytes(Path.Combine(staleNew, "model.safetensors"), new byte[1000]);
        File.WriteAllText(Path.Combine(parked, "notes.txt"), "keep me");
        // a live writer's folder (this process) and another destination's are not touched
        var live = Path.Combine(root, $".merged.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var other = Path.Combine(root, $".other.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(live);
        Directory.CreateDirectory(other);

        AtomicFile.WriteDirectory(dest, d => File.WriteAllText(Path.Combine(d, "config.json"), "new"));

        Assert.Equal("new", File.ReadAllText(Path.Combine(dest, "config.json")));
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(dest, "notes.txt")));
        Assert.False(Directory.Exists(staleNew));
        Assert.False(Directory.Exists(staleOld));
        Assert.False(Directory.Exists(parked));
        Assert.True(Directory.Exists(live));
        Assert.True(Directory.Exists(other));
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void A_parked_previous_version_goes_back_when_the_new_one_never_arrived()
    {
        var root = TempFolder.Fresh();
        var dest = Path.Combine(root, "model");
        var parked = Path.Combine(root, $".model.999999999.{Guid.NewGuid():N}.tmp.old");
        Directory.CreateDirectory(parked);
        File.WriteAllText(Path.Combine(parked, "config.json"), "previous");
        File.WriteAllText(Path.Combine(parked, "history.json"), "run");

        AtomicFile.WriteDirectory(dest, d => File.WriteAllText(Path.Combine(d, "config.json"), "new"));

        Assert.Equal("new", File.ReadAllText(Path.Combine(dest, "config.json")));
        Assert.Equal("run", File.ReadAllText(Path.Combine(dest, "history.json")));
        Assert.Single(Directory.GetDirectories(root));
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void The_help_lists_one_name_per_option_and_old_names_still_parse()
    {
        var (exit, output, _) = CliRunner.Run("bench", "train", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("--batch-size", output);
        Assert.Contains("--seq-len", output);
        Assert.Contains("--vocab-size", output);
        Assert.DoesNotContain("--batch ", output);
        Assert.DoesNotContain("--seq ", output);
        Assert.DoesNotContain("--vocab ", output);
        (exit, output, _) = CliRunner.Run("curate", "--help");
        Assert.Contains("--data", output);
        Assert.DoesNotContain("--input", output);
    }
}
