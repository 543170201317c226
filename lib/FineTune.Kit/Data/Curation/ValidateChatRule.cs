namespace FineTune.Kit.Data.Curation;

/// <summary>Drops chat rows that fail the format checks of <see cref="ChatValidator"/>, with the failed checks as reason.</summary>
public sealed class ValidateChatRule : RowFilterRule
{
    /// <inheritdoc/>
    public override string Name => "validate_chat";

    /// <inheritdoc/>
    public override string? RemovalReason(Example row)
    {
        var issues = ChatValidator.Check(row.Fields, row.Line);
        return issues.Count == 0 ? null : string.Join("; ", issues.Select(i => $"{i.Kind}: {i.Detail}"));
    }
}
