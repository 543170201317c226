namespace FineTune.Kit;

/// <summary>
/// Seeds across the kit are <see cref="int"/> and default to <see cref="Default"/>, so a run with no seed given is
/// repeatable and two stages left at their defaults agree.
/// </summary>
public static class Seeds
{
    /// <summary>The seed every builder and option uses when none is given.</summary>
    public const int Default = 42;
}
