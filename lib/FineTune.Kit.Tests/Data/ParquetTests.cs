using System.Text.Json.Nodes;
using FineTune.Kit.Data;
using FineTune.Kit.Tests.Text.Oracle;
using Oracle = FineTune.Kit.Tests.Data.ParquetOracle.ParquetOracle;

namespace FineTune.Kit.Tests.Data;

public class ParquetTests
{
    private static Dataset Rows(params string[] json) => Dataset.FromObjects(json.Select(j => (JsonObject)JsonNode.Parse(j)!));

    // what a row should read back as: every column of the file present, null where the row had none
    private static JsonObject Filled(JsonObject row, IEnumerable<string> columns)
    {
        var o = new JsonObject();
        foreach (var c in columns) o[c] = row[c]?.DeepClone();
        return o;
    }

    private static void AssertSameRows(Dataset expected, Dataset actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        var columns = expected.ColumnNames;
        for (int i = 0; i < expected.Count; i++)
        {
            var want = Filled(expected[i].Fields, columns);
            Assert.True(JsonNode.DeepEquals(want, actual[i].Fields), $"row {i + 1}: expected {want.ToJsonString()}, got {actual[i].ToJson()}");
        }
    }

    [Fact]
    public void Flat_columns_round_trip_with_nulls_unicode_and_extreme_numbers()
    {
        using var dir = new TempFolder();
        var data = Rows(
            """{"text":"héllo wörld 🌍","label":"pos","n":9223372036854775807,"x":0.1,"ok":true}""",
            """{"text":"中文 テキスト","label":null,"n":-9223372036854775808,"x":-1e300,"ok":false}""",
            """{"text":"","n":0,"x":3,"ok":null}""",                  // x mixes integers and decimals: a double column
            """{"text":"tab\there\nnew line \"quoted\" \\ back","label":"neg","n":null,"x":null}""");
        var path = dir["flat.parquet"];
        data.SaveParquet(path);
        var back = Dataset.FromParquet(path);
        Assert.Equal(path, back.Source);
        Assert.Equal([1, 2, 3, 4], back.Rows.Select(r => r.Line));
        Assert.Equal(9223372036854775807L, back[0].Fields["n"]!.GetValue<long>());
        Assert.Equal(-1e300, back[1].Fields["x"]!.GetValue<double>());
        Assert.Equal(3.0, back[2].Fields["x"]!.GetValue<double>());
        Assert.Equal(["text", "label", "n", "x", "ok"], back[2].Columns);  // the missing label reads as null
        Assert.Null(back[2].Fields["label"]);
        Assert.Equal("tab\there\nnew line \"quoted\" \\ back", back[3]["text"]);
        Assert.Equal("", back[2]["text"]);                                   // empty string is not null
        AssertSameRows(Rows(
            """{"text":"héllo wörld 🌍","label":"pos","n":9223372036854775807,"x":0.1,"ok":true}""",
            """{"text":"中文 テキスト","label":null,"n":-9223372036854775808,"x":-1e300,"ok":false}""",
            """{"text":"","n":0,"x":3.0,"ok":null}""",
            """{"text":"tab\there\nnew line \"quoted\" \\ back","label":"neg","n":null,"x":null}"""), back);
    }

    [Fact]
    public void Nested_messages_round_trip_across_row_groups_with_nulls_at_every_level()
    {
        using var dir = new TempFolder();
        var data = Rows(
            """{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Привет 👋"},{"role":"assistant","content":"Hi."}],"tags":["a","b"],"meta":{"source":"x","turns":[1,2]}}""",
            """{"messages":[],"tags":[],"meta":{"source":null,"turns":[]}}""",
            """{"messages":null,"tags":null,"meta":null}""",
            """{"messages":[{"role":"user","content":null},null,{"role":"assistant","content":""}],"tags":[null,"c"],"meta":{"source":"y","turns":null}}""",
            """{"messages":[{"role":"user","content":"last"}],"tags":["z"]}""");
        var path = dir["chat.parquet"];
        data.SaveParquet(path, rowGroupSize: 2);   // three row groups: levels must restart at each
        var back = Dataset.FromParquet(path);
        Assert.Equal([1, 2, 3, 4, 5], back.Rows.Select(r => r.Line));
        AssertSameRows(data, back);
        Assert.IsType<JsonArray>(back[1].Fields["messages"]);                 // empty list stays an empty list
        Assert.Null(back[2].Fields["messages"]);                              // null list stays null
        Assert.Null(((JsonArray)back[3].Fields["messages"]!)[1]);             // null element stays null
    }

    [Fact]
    public void Chat_rows_from_parquet_read_as_from_jsonl()
    {
        using var dir = new TempFolder();
        var jsonl = dir.File("chat.jsonl",
            """
            {"messages":[{"role":"user","content":"2+2?"},{"role":"assistant","content":"4"}]}
            {"messages":[{"role":"system","content":"ünïcode"},{"role":"user","content":"q"},{"role":"assistant","content":"a","name":"bot"}]}
            """);
        var fromJsonl = Dataset.FromJsonl(jsonl);
        fromJsonl.SaveParquet(dir["chat.parquet"]);
        var fromParquet = Dataset.Load(dir["chat.parquet"]);
        Assert.Equal(DatasetShape.Chat, fromParquet.Shape);
        Assert.Equal(fromJsonl.AsChat().Select(c => c.Messages), fromParquet.AsChat().Select(c => c.Messages), new SequenceComparer());
    }

    private sealed class SequenceComparer : IEqualityComparer<IReadOnlyList<ChatMessage>>
    {
        public bool Equals(IReadOnlyList<ChatMessage>? a, IReadOnlyList<ChatMessage>? b) => a!.SequenceEqual(b!);
        public int GetHashCode(IReadOnlyList<ChatMessage> obj) => obj.Count;
    }

    [Fact]
    public void A_column_with_two_kinds_of_value_is_refused_naming_column_and_row()
    {
        using var dir = new TempFolder();
        var data = Rows("""{"text":"a","score":1}""", """{"text":"b","score":"high"}""");
        var e = Assert.Throws<DataFormatException>(() => data.SaveParquet(dir["mixed.parquet"]));
        Assert.Contains("line 2", e.Message);
        Assert.Contains("'score'", e.Message);
        Assert.Contains("a string here but a number", e.Message);
        Assert.False(File.Exists(dir["mixed.parquet"]));
        var nested = Rows("""{"messages":[{"role":"user","content":"a"}]}""", """{"messages":[{"role":"user","content":7}]}""");
        var n = Assert.Throws<DataFormatException>(() => nested.SaveParquet(dir["nested.parquet"]));
        Assert.Contains("'messages[].content'", n.Message);
    }

    [Fact]
    public void A_file_that_is_not_parquet_is_refused_naming_it()
    {
        using var dir = new TempFolder();
        var path = dir.File("fake.parquet", "{\"text\":\"I am JSONL\"}\n");
        var e = Assert.Throws<DataFormatException>(() => Dataset.FromParquet(path));
        Assert.Contains("fake.parquet: not a readable Parquet file", e.Message);
    }

    [Fact]
    public async Task Binary_columns_are_refused_by_name()
    {
        using var dir = new TempFolder();
        var path = dir["image.parquet"];
        var schema = new Parquet.Schema.ParquetSchema(new Parquet.Schema.DataField<string>("text"), new Parquet.Schema.DataField<byte[]>("image"));
        await using (var stream = File.Create(path))
        {
            await using var writer = await Parquet.ParquetWriter.CreateAsync(schema, stream);
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(schema.DataFields[0], new[] { "a" });
            await group.WriteAsync(schema.DataFields[1], new[] { new byte[] { 1, 2 } });
        }
        var e = Assert.Throws<DataFormatException>(() => Dataset.FromParquet(path));
        Assert.Contains("column 'image'", e.Message);
        Assert.Contains("binary", e.Message);
        Assert.Contains("image.parquet", e.Message);
    }

    [Fact]
    public void Rows_stream_lazily_row_group_by_row_group()
    {
        using var dir = new TempFolder();
        var path = dir["many.parquet"];
        Dataset.FromTexts(Enumerable.Range(0, 25).Select(i => $"row {i}")).SaveParquet(path, rowGroupSize: 10);
        Assert.Equal(25, ParquetRowReader.CountRows(path));
        using var rows = ParquetRowReader.Read(path).GetEnumerator();
        Assert.True(rows.MoveNext());
        Assert.Equal("row 0", rows.Current["text"]);
        var rest = new List<Example>();
        while (rows.MoveNext()) rest.Add(rows.Current);
        Assert.Equal(Enumerable.Range(2, 24), rest.Select(r => r.Line));
        Assert.Equal(25, Dataset.Stream(path).Count());
    }

    // ---------- against independent implementations ----------

    [NodeOracleFact]
    public void Reads_a_file_written_by_an_independent_writer_with_every_primitive_type_and_nesting()
    {
        using var dir = new TempFolder();
        var path = dir["oracle.parquet"];
        var message = new JsonObject { ["struct"] = new JsonObject { ["role"] = "utf8", ["content"] = "utf8" } };
        var columns = new JsonArray
        {
            Column("i32", "int32", 1, -2147483648, null),
            Column("i64", "int64", "9007199254740993", "-9223372036854775808", null),
            Column("f32", "float32", 1.5, null, -0.25),
            Column("f64", "float64", 0.1, 1e300, null),
            Column("flag", "bool", true, false, null),
            Column("text", "utf8", "héllo 🌍", null, "中文\n\"q\""),
            Column("tags", new JsonObject { ["list"] = "utf8" }, new JsonArray("a", null, "b"), new JsonArray(), null),
            Column("meta", new JsonObject { ["struct"] = new JsonObject { ["src"] = "utf8", ["n"] = "int32" } },
                new JsonObject { ["src"] = "x", ["n"] = 3 }, null, new JsonObject { ["src"] = null, ["n"] = 4 }),
            Column("messages", new JsonObject { ["list"] = message },
                new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }, new JsonObject { ["role"] = "assistant", ["content"] = "yo" }),
                new JsonArray(),
                null),
        };
        Oracle.Write(path, columns, rowGroupSize: 2);
        var data = Dataset.FromParquet(path);
        var expected = Rows(
            """{"i32":1,"i64":9007199254740993,"f32":1.5,"f64":0.1,"flag":true,"text":"héllo 🌍","tags":["a",null,"b"],"meta":{"src":"x","n":3},"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}""",
            """{"i32":-2147483648,"i64":-9223372036854775808,"f32":null,"f64":1e300,"flag":false,"text":null,"tags":[],"meta":null,"messages":[]}""",
            """{"i32":null,"i64":null,"f32":-0.25,"f64":null,"flag":null,"text":"中文\n\"q\"","tags":null,"meta":{"src":null,"n":4},"messages":null}""");
        AssertSameRows(expected, data);
        Assert.Equal("hi", data.Derive(data.Rows.Take(1)).AsChat()[0].Messages[0].Content);   // the list of structs reads as chat
    }

    [NodeOracleFact]
    public void Files_the_kit_writes_read_the_same_in_an_independent_reader()
    {
        using var dir = new TempFolder();
        var path = dir["kit.parquet"];
        var data = Rows(
            """{"text":"héllo 🌍","n":9007199254740993,"x":0.5,"ok":true,"messages":[{"role":"user","content":"中文"},{"role":"assistant","content":null}],"meta":{"a":[1,2]}}""",
            """{"text":null,"n":-1,"x":null,"ok":false,"messages":[],"meta":null}""",
            """{"text":"","n":null,"x":1e-300,"ok":null,"messages":null,"meta":{"a":[]}}""");
        data.SaveParquet(path, rowGroupSize: 2);
        var read = Oracle.Read(path);
        Assert.Equal(2, read["rowGroups"]!.GetValue<int>());
        var rows = (JsonArray)read["rows"]!;
        var expected = new JsonArray(
            JsonNode.Parse("""{"text":"héllo 🌍","n":"9007199254740993","x":0.5,"ok":true,"messages":[{"role":"user","content":"中文"},{"role":"assistant","content":null}],"meta":{"a":[1,2]}}"""),
            JsonNode.Parse("""{"text":null,"n":-1,"x":null,"ok":false,"messages":[],"meta":null}"""),
            JsonNode.Parse("""{"text":"","n":null,"x":1e-300,"ok":null,"messages":null,"meta":{"a":[]}}"""));
        Assert.True(JsonNode.DeepEquals(expected, rows), $"hyparquet read {rows.ToJsonString()}");
        var schema = ((JsonArray)read["schema"]!).Select(e => e!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("messages", schema);
        Assert.Equal("LIST", ((JsonArray)read["schema"]!).First(e => e!["name"]!.GetValue<string>() == "messages")!["converted_type"]!.GetValue<string>());
    }

    [NodeOracleFact]
    public void Nested_columns_in_data_page_v2_are_refused_saying_why()
    {
        using var dir = new TempFolder();
        var path = dir["v2.parquet"];
        Oracle.WriteDataPageV2(path);
        var e = Assert.Throws<DataFormatException>(() => Dataset.FromParquet(path));
        Assert.Contains("v2.parquet: row group 0, column 'tags[]'", e.Message);
        Assert.Contains("data page v2", e.Message);
    }

    private static JsonObject Column(string name, JsonNode type, params JsonNode?[] data) =>
        new() { ["name"] = name, ["type"] = type, ["data"] = new JsonArray(data) };
}
