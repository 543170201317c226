using FineTune.Kit.Text;

namespace FineTune.Kit.Serving;

/// <summary>Finds which of the kit's named chat templates a model's tokenizer_config.json template is.</summary>
public static class ModelChatTemplate
{
    /// <summary>
    /// The named template whose Jinja equals the tokenizer's <c>chat_template</c>; <see cref="ChatTemplate.Plain"/>
    /// when the tokenizer has none.
    /// </summary>
    /// <exception cref="KitException">The tokenizer has a chat template the kit cannot render.</exception>
    public static ChatTemplate For(TextTokenizer tokenizer) => TryFor(tokenizer.Config.ChatTemplate)
        ?? throw new KitException($"the model's chat_template is not one the kit renders ({string.Join(", ", ChatTemplate.All.Select(t => t.Name))}); pass a ChatTemplate explicitly.");

    /// <summary>The named template for a Jinja template (Plain for none), or null when it is not one of them.</summary>
    public static ChatTemplate? TryFor(string? jinja) =>
        jinja is null ? ChatTemplate.Plain : ChatTemplate.All.FirstOrDefault(t => t.Jinja is not null && t.Jinja == jinja);
}
