using FineTune.Kit.Io;
using FineTune.Kit.Tests.Models;

namespace FineTune.Kit.Tests.Io;

public class AtomicFileTests
{
    [Fact]
    public void Writing_a_folder_replaces_the_artefact_and_keeps_everything_else()
    {
        var dir = Path.Combine(TempFolder.Fresh(), "out");
        Directory.CreateDirectory(Path.Combine(dir, "checkpoints", "checkpoint-000100"));
        File.WriteAllText(Path.Combine(dir, "checkpoints", "checkpoint-000100", "trainer_state.json"), "{}");
        File.WriteAllText(Path.Combine(dir, "history.json"), "[1]");
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        File.WriteAllText(Path.Combine(dir, "config.json"), "old");
        File.WriteAllText(Path.Combine(dir, "model-00001-of-00002.safetensors"), "old shard");
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), "old index");

        AtomicFile.WriteDirectory(dir, tmp =>
        {
            File.WriteAllText(Path.Combine(tmp, "config.json"), "new");
            File.WriteAllText(Path.Combine(tmp, "model.safetensors"), "new weights");
        });

        Assert.Equal("new", File.ReadAllText(Path.Combine(dir, "config.json")));
        Assert.Equal("new weights", File.ReadAllText(Path.Combine(dir, "model.safetensors")));
        // the previous artefact's stale files are gone, so a loader cannot mix the two versions
        Assert.False(File.Exists(Path.Combine(dir, "model-00001-of-00002.safetensors")));
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors.index.json")));
        // everything else survives
        Assert.Equal("{}", File.ReadAllText(Path.Combine(dir, "checkpoints", "checkpoint-000100", "trainer_state.json")));
        Assert.Equal("[1]", File.ReadAllText(Path.Combine(dir, "history.json")));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "notes.txt")));
        // and no temporary folder is left behind
        Assert.Single(Directory.GetFileSystemEntries(Path.GetDirectoryName(dir)!));
    }

    [Fact]
    public void A_failed_write_leaves_the_old_folder_untouched()
    {
        var dir = Path.Combine(TempFolder.Fresh(), "model");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), "old");
        Assert.Throws<IOException>(() => AtomicFile.WriteDirectory(dir, tmp =>
        {
            File.WriteAllText(Path.Combine(tmp, "config.json"), "half");
            throw new IOException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(Path.Combine(dir, "config.json")));
        Assert.Single(Directory.GetFileSystemEntries(Path.GetDirectoryName(dir)!));
    }
}
