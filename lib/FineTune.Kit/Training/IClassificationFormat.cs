using FineTune.Kit.Data;

namespace FineTune.Kit.Training;

/// <summary>
/// How a labelled example becomes a training pair: the prompt for its text and the completion for its label. A prompt
/// template (<c>FineTune.Kit.Prompting.PromptTemplate</c>) is one; training only needs this seam.
/// </summary>
public interface IClassificationFormat
{
    /// <summary>The prompt for an input text, ending where the label's completion follows.</summary>
    string Prompt(string input);

    /// <summary>The text the model should produce after the prompt for <paramref name="label"/>.</summary>
    string Completion(string label);
}
