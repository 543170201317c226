namespace FineTune.Kit.Text.Jinja;

/// <summary>
/// A chat template could not be parsed or rendered. The message names the template, the line and the construct
/// (tag, filter, test or expression) that failed.
/// </summary>
public sealed class JinjaException(string message, Exception? inner = null) : KitException(message, inner);

/// <summary>Raised inside evaluation; the interpreter adds the template name and line on the way out.</summary>
internal sealed class JinjaRuntimeError(string message) : Exception(message);
