namespace FineTune.Kit.Tests.Build;

/// <summary>
/// bench/pytorch is run by hand (it installs PyTorch and takes minutes), so the suite checks what it can without
/// PyTorch: both scripts parse, the option checks refuse bad values in one line, and the presets match the kit's.
/// </summary>
public class PyTorchBaselineScriptTests
{
    private static readonly string Folder = RepoFiles.PathOf("bench/pytorch");

    [Fact]
    public void The_scripts_parse_and_the_shell_script_refuses_a_bad_option_in_one_line()
    {
        // python3 comes with Debian and this machine, not necessarily with every container the tests run in
        bool hasPython = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "python3")));
        if (hasPython || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            var (pyExit, pyLog) = Processes.Run("python3", ["-m", "py_compile", Path.Combine(Folder, "lora_train.py")], Folder, TimeSpan.FromMinutes(1),
                new Dictionary<string, string> { ["PYTHONPYCACHEPREFIX"] = Path.Combine(Path.GetTempPath(), "ftk-pycache") });
            Assert.True(pyExit == 0, pyLog);
        }
        var (shExit, shLog) = Processes.Run("bash", ["-n", Path.Combine(Folder, "compare.sh")], Folder, TimeSpan.FromMinutes(1));
        Assert.True(shExit == 0, shLog);
        var (badExit, badLog) = Processes.Run("bash", [Path.Combine(Folder, "compare.sh"), "--repeats", "0"], Folder, TimeSpan.FromMinutes(1));
        Assert.Equal(2, badExit);
        Assert.Equal("compare.sh: --repeats must be a positive integer, got '0'", badLog.Trim());
    }

    [Fact]
    public void The_pytorch_preset_is_the_kits_smollm2_shape()
    {
        var script = File.ReadAllText(Path.Combine(Folder, "lora_train.py"));
        var c = FineTune.Kit.Models.ModelPresets.Get("smollm2-135m");
        Assert.Contains($"vocab={c.VocabSize}, hidden={c.HiddenSize}, ffn={c.IntermediateSize}, layers={c.NumLayers}, heads={c.NumHeads}, kv_heads={c.NumKvHeads}", script);
    }
}
