using System.Text.Json.Nodes;
using Microsoft.Data.Analysis;

namespace FineTune.Kit.Data;

/// <summary>
/// A dataset of rows (<see cref="Example"/>s) that remember their source line, with a <see cref="DataFrame"/> view
/// (<see cref="Frame"/>) so notebooks show it as a table. Immutable: curation and splitting return new datasets.
/// </summary>
public sealed class Dataset
{
    private DataFrame? _frame;

    /// <summary>Creates a dataset from rows, with the rows the loader could not read.</summary>
    public Dataset(IEnumerable<Example> rows, IEnumerable<InvalidRow>? invalidRows = null, string? source = null)
    {
        Rows = rows as IReadOnlyList<Example> ?? rows.ToList();
        InvalidRows = invalidRows?.ToList() ?? [];
        Source = source;
    }

    /// <summary>The rows, in order.</summary>
    public IReadOnlyList<Example> Rows { get; }

    /// <summary>Rows the loader skipped (with <see cref="OnError.Skip"/>): line and reason.</summary>
    public IReadOnlyList<InvalidRow> InvalidRows { get; }

    /// <summary>The file the rows came from, if any.</summary>
    public string? Source { get; }

    /// <summary>Number of rows.</summary>
    public int Count => Rows.Count;

    /// <summary>One row.</summary>
    public Example this[int index] => Rows[index];

    /// <summary>Every column name that occurs in any row, in first-seen order.</summary>
    public IReadOnlyList<string> ColumnNames
    {
        get
        {
            var names = new List<string>();
            var seen = new HashSet<string>();
            foreach (var r in Rows)
                foreach (var c in r.Columns)
                    if (seen.Add(c)) names.Add(c);
            return names;
        }
    }

    /// <summary>
    /// The rows as a DataFrame: one string column per field (non-string values as JSON, missing as null) and a
    /// <c>line</c> column with the source line. Built on first use.
    /// </summary>
    public DataFrame Frame => _frame ??= BuildFrame();

    /// <summary>The values of one column as text (null where a row lacks it).</summary>
    public IReadOnlyList<string?> Column(string name) => Rows.Select(r => r[name]).ToList();

    // ---------- loading and saving ----------

    /// <summary>Loads a JSONL file (UTF-8, BOM optional). See <see cref="JsonlReader.Read(string, OnError, Action{InvalidRow}?)"/>.</summary>
    public static Dataset FromJsonl(string path, OnError onError = OnError.Fail)
    {
        var invalid = new List<InvalidRow>();
        var rows = JsonlReader.Read(path, onError, invalid.Add).ToList();
        return new Dataset(rows, invalid, path);
    }

    /// <summary>Loads a CSV file with a header row (RFC 4180 quoting, multi-line fields).</summary>
    public static Dataset FromCsv(string path, OnError onError = OnError.Fail, char delimiter = ',')
    {
        var invalid = new List<InvalidRow>();
        var rows = CsvReader.Read(path, onError, invalid.Add, delimiter).ToList();
        return new Dataset(rows, invalid, path);
    }

    /// <summary>
    /// Loads a Parquet file (see <see cref="ParquetRowReader"/>): lists and structs become JSON arrays and objects, so a
    /// <c>messages</c> column reads as it does from JSONL; <see cref="Example.Line"/> is the 1-based row number.
    /// </summary>
    public static Dataset FromParquet(string path) => new(ParquetRowReader.Read(path).ToList(), null, path);

    /// <summary>
    /// Loads one split of a Hugging Face dataset folder (see <see cref="DatasetDict.FromFolder"/>); by default
    /// <c>train</c>.
    /// </summary>
    public static Dataset FromHubFolder(string directory, string split = "train", string? config = null, OnError onError = OnError.Fail) =>
        DatasetDict.FromFolder(directory, config, onError)[split];

    /// <summary>
    /// Loads a file by its extension: <c>.csv</c> or <c>.tsv</c> as CSV, <c>.parquet</c> as Parquet, anything else as
    /// JSONL; a folder as the <c>train</c> split of a Hugging Face dataset folder.
    /// </summary>
    public static Dataset Load(string path, OnError onError = OnError.Fail) =>
        Directory.Exists(path) ? FromHubFolder(path, onError: onError) :
        Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".csv" => FromCsv(path, onError),
            ".tsv" => FromCsv(path, onError, '\t'),
            ".parquet" => FromParquet(path),
            _ => FromJsonl(path, onError),
        };

    /// <summary>
    /// Streams the rows of a file without holding the whole file (JSONL line by line, Parquet row group by row group,
    /// CSV record by record), choosing the reader as <see cref="Load"/> does; a folder streams its <c>train</c> split.
    /// </summary>
    public static IEnumerable<Example> Stream(string path, OnError onError = OnError.Fail, Action<InvalidRow>? invalid = null) =>
        Directory.Exists(path) ? DatasetDict.FromFolder(path, null, onError).Stream("train", invalid) :
        Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".csv" => CsvReader.Read(path, onError, invalid),
            ".tsv" => CsvReader.Read(path, onError, invalid, '\t'),
            ".parquet" => ParquetRowReader.Read(path),
            _ => JsonlReader.Read(path, onError, invalid),
        };

    /// <summary>Builds a dataset from in-memory objects; row numbers start at 1.</summary>
    public static Dataset FromObjects(IEnumerable<JsonObject> rows) =>
        new(rows.Select((o, i) => new Example(o, i + 1)));

    /// <summary>Builds a text dataset (<c>text</c>, optional <c>label</c>) from pairs; row numbers start at 1.</summary>
    public static Dataset FromTexts(IEnumerable<string> texts, IEnumerable<string?>? labels = null)
    {
        var list = texts.ToList();
        var labelList = labels?.ToList();
        return new Dataset(list.Select((t, i) =>
        {
            var o = new JsonObject { ["text"] = t };
            if (labelList?[i] is { } l) o["label"] = l;
            return new Example(o, i + 1);
        }));
    }

    /// <summary>Writes the rows as JSONL, atomically.</summary>
    public void ToJsonl(string path) => JsonlWriter.Write(path, Rows);

    /// <summary>
    /// Writes the rows as Parquet, atomically, with a schema inferred from the rows (see <see cref="ParquetRowWriter"/>).
    /// </summary>
    public void SaveParquet(string path, int rowGroupSize = ParquetRowWriter.DefaultRowGroupSize) => ParquetRowWriter.Write(path, Rows, rowGroupSize);

    /// <summary>Writes the rows as CSV, atomically.</summary>
    public void ToCsv(string path, char delimiter = ',') => CsvWriter.Write(path, Rows, delimiter);

    // ---------- typed views ----------

    /// <summary>The layout most rows follow, judged from the columns of the first row.</summary>
    public DatasetShape Shape => Count == 0 ? DatasetShape.Unknown : ShapeOf(Rows[0]);

    /// <summary>The layout one row follows.</summary>
    public static DatasetShape ShapeOf(Example row) =>
        row.Has("messages") ? DatasetShape.Chat
        : row.Has("chosen") && row.Has("rejected") ? DatasetShape.Preference
        : row.Has("prompt") && row.Has("completion") ? DatasetShape.PromptCompletion
        : row.Has("text") ? DatasetShape.Text
        : DatasetShape.Unknown;

    /// <summary>
    /// Rows as text/label pairs; a row without a string <c>text</c>, or with a label that is not a string (a number or
    /// true/false would silently become a class of its own), is an error naming its line.
    /// </summary>
    public IReadOnlyList<TextRow> AsText(string textColumn = "text", string labelColumn = "label") =>
        Rows.Select(r => new TextRow(Require(r, textColumn), Label(r, labelColumn), r.Line)).ToList();

    private string? Label(Example r, string column) => r.Fields[column] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var node => throw new DataFormatException($"{Where(r)}: '{column}' is {Describe(node)}; expected a string " +
                                                  $"(write \"{Example.AsText(node)}\" in quotes if it is the name of a class)"),
    };

    /// <summary>A JSON value's kind and value for messages: "the number 7", "true", "a list".</summary>
    internal static string Describe(JsonNode node) => node.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.Number => $"the number {node.ToJsonString()}",
        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => $"the boolean {node.ToJsonString()}",
        System.Text.Json.JsonValueKind.Array => "a list",
        System.Text.Json.JsonValueKind.Object => "an object",
        _ => node.ToJsonString(),
    };

    /// <summary>
    /// What is wrong with a row whose <paramref name="columns"/> hold a number, a boolean or an object instead of text
    /// (a list is allowed, for chat messages), as "'label' is the number 7; expected a string"; null when nothing is.
    /// Curation would otherwise treat a number text as empty and a number label as a class of its own.
    /// </summary>
    public static string? NonTextValue(Example row, IEnumerable<string> columns)
    {
        foreach (var c in columns)
            if (row.Fields[c] is { } node && node.GetValueKind() is not (System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Array))
                return $"'{c}' is {Describe(node)}; expected a string";
        return null;
    }

    /// <summary>Rows as prompt/completion pairs.</summary>
    public IReadOnlyList<PromptCompletionRow> AsPromptCompletion() =>
        Rows.Select(r => new PromptCompletionRow(Require(r, "prompt"), Require(r, "completion"), r.Line)).ToList();

    /// <summary>Rows as preference triples.</summary>
    public IReadOnlyList<PreferenceRow> AsPreference() =>
        Rows.Select(r => new PreferenceRow(Require(r, "prompt"), Require(r, "chosen"), Require(r, "rejected"), r.Line)).ToList();

    /// <summary>Rows as chat conversations; run <see cref="ChatValidator"/> first for a full list of problems.</summary>
    public IReadOnlyList<ChatRow> AsChat() => Rows.Select(r =>
    {
        if (r.Fields["messages"] is not JsonArray messages)
            throw new DataFormatException($"{Where(r)}: 'messages' is missing or not a list");
        var list = messages.Select((m, i) => m is JsonObject o && o["role"] is JsonValue role && role.TryGetValue<string>(out var rs)
                && o["content"] is JsonValue content && content.TryGetValue<string>(out var cs)
                ? new ChatMessage(rs, cs, (o["name"] as JsonValue)?.GetValue<string>())
                : throw new DataFormatException($"{Where(r)}: message {i} needs string 'role' and 'content'"))
            .ToList();
        return new ChatRow(list, r.Line);
    }).ToList();

    private string Require(Example r, string column) =>
        r.Fields[column] is JsonValue v && v.TryGetValue<string>(out var s)
            ? s
            : throw new DataFormatException($"{Where(r)}: expected a string column '{column}'" +
                                            (r.Fields[column] is { } node ? $", got {Describe(node)}" : ", but the row has none"));

    private string Where(Example r) => $"{Source ?? "dataset"}:{r.Line}";

    // ---------- curation and splitting ----------

    /// <summary>
    /// Seeded train/validation/test split. With <paramref name="stratifyBy"/> each label keeps its share in every
    /// split; with <paramref name="groupBy"/> all rows of one group land in the same split.
    /// </summary>
    public DatasetSplits Split(double train, double validation, double test, string? stratifyBy = null, string? groupBy = null, int seed = Seeds.Default) =>
        Splitter.Split(this, train, validation, test, stratifyBy, groupBy, seed);

    /// <summary>Seeded k-fold cross-validation folds (optionally stratified and/or group-aware).</summary>
    public IReadOnlyList<Fold> KFold(int k, string? stratifyBy = null, string? groupBy = null, int seed = Seeds.Default) =>
        Splitter.KFold(this, k, stratifyBy, groupBy, seed);

    /// <summary>A dataset with the given rows and this dataset's source (invalid rows are not carried over).</summary>
    public Dataset Derive(IEnumerable<Example> rows) => new(rows, null, Source);

    private DataFrame BuildFrame()
    {
        var columns = new List<DataFrameColumn> { new PrimitiveDataFrameColumn<int>("line", Rows.Select(r => r.Line)) };
        foreach (var name in ColumnNames)
            columns.Add(new StringDataFrameColumn(name == "line" ? "line_" : name, Rows.Select(r => r[name])));
        return new DataFrame(columns);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Dataset({Count} rows{(InvalidRows.Count > 0 ? $", {InvalidRows.Count} invalid" : "")}, columns: {string.Join(", ", ColumnNames)})";
}

/// <summary>A train/validation/test split.</summary>
public sealed record DatasetSplits(Dataset Train, Dataset Validation, Dataset Test);

/// <summary>One cross-validation fold: the rows to train on and the held-out rows.</summary>
public sealed record Fold(int Index, Dataset Train, Dataset Validation);
