namespace FineTune.Kit.Tests;

public class TestSupportTests
{
    [Fact]
    public void A_temp_folder_is_gone_after_the_test_and_fresh_ones_live_under_one_root()
    {
        string path;
        using (var tmp = new TempFolder())
        {
            path = tmp.Path;
            File.WriteAllText(tmp.File("a.txt", "x"), "x");
            Directory.CreateDirectory(tmp["sub"]);
            Assert.True(File.Exists(Path.Combine(path, "a.txt")));
        }
        Assert.False(Directory.Exists(path));
        string a = TempFolder.Fresh(), b = TempFolder.Fresh();
        Assert.NotEqual(a, b);
        Assert.Equal(TempFolder.Root, Path.GetDirectoryName(a));
        Assert.Empty(Directory.EnumerateFileSystemEntries(a));
    }

    [Fact]
    public void The_repository_root_holds_the_solution_and_the_kit()
    {
        Assert.True(File.Exists(RepoFiles.PathOf("FineTuneKit.sln")));
        Assert.True(Directory.Exists(RepoFiles.PathOf(Path.Combine("lib", "FineTune.Kit", "Training"))));
    }
}
