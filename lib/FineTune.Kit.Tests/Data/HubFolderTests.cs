using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Data;

public class HubFolderTests
{
    private static void Parquet(string path, params string[] texts)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Dataset.FromTexts(texts).SaveParquet(path);
    }

    private static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    [Fact]
    public void Sharded_parquet_splits_are_concatenated_in_shard_order()
    {
        using var dir = new TempFolder();
        // shard 10 sorts before shard 2 as text; the shard number decides
        Parquet(dir["data/train-00010-of-00011.parquet"], "last");
        Parquet(dir["data/train-00002-of-00011.parquet"], "second", "third");
        Parquet(dir["data/train-00000-of-00011.parquet"], "first");
        Parquet(dir["data/test-00000-of-00001.parquet"], "t1", "t2");
        Write(dir["README.md"], "---\nconfigs: ...\n---\n");
        var dict = DatasetDict.FromFolder(dir.Path);
        Assert.Equal(["train", "test"], dict.Splits);
        Assert.Equal("default", dict.Config);
        Assert.Equal(["first", "second", "third", "last"], dict["train"].Rows.Select(r => r["text"]));
        Assert.Equal([1, 2, 3, 4], dict["train"].Rows.Select(r => r.Line));           // numbered across shards
        Assert.Equal(["t1", "t2"], dict["test"].Rows.Select(r => r["text"]));
        Assert.Equal(dict["train"].Rows.Select(r => r.ToJson()), dict.Stream("train").Select(r => r.ToJson()));
        Assert.Equal(4, Dataset.FromHubFolder(dir.Path).Count);
        Assert.Equal(4, Dataset.Load(dir.Path).Count);                                  // a folder loads its train split
    }

    [Fact]
    public void Top_level_split_files_of_any_supported_format()
    {
        using var dir = new TempFolder();
        Write(dir["train.jsonl"], "{\"text\":\"a\"}\n{\"text\":\"b\"}\n");
        Write(dir["validation.jsonl"], "{\"text\":\"v\"}\n");
        Parquet(dir["test.parquet"], "x");
        var dict = DatasetDict.FromFolder(dir.Path);
        Assert.Equal(["train", "validation", "test"], dict.Splits);
        Assert.Equal(dir["train.jsonl"], dict["train"].Source);                         // one file keeps its name and lines
        Assert.Equal([1, 2], dict["train"].Rows.Select(r => r.Line));
        Assert.Equal("x", dict["test"][0]["text"]);
    }

    [Fact]
    public void Config_subfolders_are_chosen_by_name_and_several_without_a_choice_are_refused()
    {
        using var dir = new TempFolder();
        Parquet(dir["en/train-00000-of-00001.parquet"], "hello");
        Parquet(dir["fr/train-00000-of-00001.parquet"], "bonjour");
        Parquet(dir["fr/test-00000-of-00001.parquet"], "salut");
        var e = Assert.Throws<DataFormatException>(() => DatasetDict.FromFolder(dir.Path));
        Assert.Contains("several configurations (en, fr)", e.Message);
        var fr = DatasetDict.FromFolder(dir.Path, "fr");
        Assert.Equal(["en", "fr"], fr.Configs);
        Assert.Equal(["train", "test"], fr.Splits);
        Assert.Equal("bonjour", fr["train"][0]["text"]);
        var missing = Assert.Throws<DataFormatException>(() => DatasetDict.FromFolder(dir.Path, "de"));
        Assert.Contains("no configuration 'de'; it has en, fr", missing.Message);
        var split = Assert.Throws<DataFormatException>(() => DatasetDict.FromFolder(dir.Path, "en")["validation"]);
        Assert.Contains("no split 'validation' in configuration 'en'; it has train", split.Message);
    }

    [Fact]
    public void The_hubs_parquet_conversion_layout_takes_splits_from_folders()
    {
        using var dir = new TempFolder();
        Parquet(dir["default/train/0001.parquet"], "b");
        Parquet(dir["default/train/0000.parquet"], "a");
        Parquet(dir["default/validation/0000.parquet"], "v");
        var dict = DatasetDict.FromFolder(dir.Path);
        Assert.Equal(["train", "validation"], dict.Splits);
        Assert.Equal(["a", "b"], dict["train"].Rows.Select(r => r["text"]));
    }

    [Fact]
    public void A_folder_with_nothing_recognisable_is_refused_listing_what_it_holds()
    {
        using var dir = new TempFolder();
        Write(dir["notes.txt"], "hi");
        Write(dir["stuff/mydata.jsonl"], "{\"text\":\"a\"}\n");
        Write(dir[".git/HEAD"], "ref");
        var e = Assert.Throws<DataFormatException>(() => DatasetDict.FromFolder(dir.Path));
        Assert.Contains("no dataset files recognised", e.Message);
        Assert.Contains("notes.txt", e.Message);
        Assert.Contains("stuff/mydata.jsonl", e.Message);
        Assert.DoesNotContain(".git", e.Message);
        using var empty = new TempFolder();
        Assert.Contains("it is empty", Assert.Throws<DataFormatException>(() => DatasetDict.FromFolder(empty.Path)).Message);
    }
}
