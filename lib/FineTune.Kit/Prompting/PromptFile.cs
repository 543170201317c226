using FineTune.Kit.Io;

namespace FineTune.Kit.Prompting;

/// <summary>
/// The prompt a classifier was trained with, kept as <c>prompt.json</c> in the adapter's (or model's) folder so that
/// whoever evaluates or serves it prompts in the same format, with the same labels. The file holds
/// <see cref="PromptTemplate.ToJson"/>.
/// </summary>
/// <example>
/// <code>
/// adapter.Save("out/adapter");
/// PromptFile.Save(template, "out/adapter");                      // out/adapter/prompt.json
/// var same = PromptFile.TryLoad("out/adapter") ?? fallback;      // null when the folder has no prompt.json
/// </code>
/// </example>
public static class PromptFile
{
    /// <summary>The file name: <c>prompt.json</c>.</summary>
    public const string FileName = "prompt.json";

    /// <summary>The path of the prompt file in <paramref name="directory"/>.</summary>
    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    /// <summary>Writes <c>prompt.json</c> into <paramref name="directory"/> (created if needed), atomically.</summary>
    public static void Save(PromptTemplate template, string directory) =>
        AtomicFile.WriteAllText(PathIn(directory), template.ToJson());

    /// <summary>Reads <c>prompt.json</c> from <paramref name="directory"/>; a missing or malformed file is an error naming it.</summary>
    public static PromptTemplate Load(string directory)
    {
        var path = PathIn(directory);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found.", path);
        return PromptTemplate.FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Reads <c>prompt.json</c> from <paramref name="directory"/>, or returns null when the folder has none.</summary>
    public static PromptTemplate? TryLoad(string directory) => File.Exists(PathIn(directory)) ? Load(directory) : null;
}
